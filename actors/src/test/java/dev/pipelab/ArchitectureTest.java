package dev.pipelab;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

import java.util.List;
import java.util.Set;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The house rules, checked on the compiled main classes of both modules (docs/architecture.md, The house): the
 * packages form no cycle; the pure core (the domain packages, {@code clock}, the pure halves of {@code link} and
 * {@code stage}, the pipeline's pure partners) knows neither Pekko nor telemetry's consumers, so plain unit tests
 * drive it and the evaluator can share it;
 * {@code monitoring} knows no Pekko; no package is a grab bag named {@code util}.
 */
@AnalyzeClasses(packages = "dev.pipelab", importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.NoTestJars.class})
class ArchitectureTest {

    private static final String PEKKO = "org.apache.pekko..";
    private static final String[] TELEMETRY_CONSUMERS = {"dev.pipelab.monitoring.dashboard..", "dev.pipelab.monitoring.metrics..",
            "dev.pipelab.monitoring.report..", "dev.pipelab.monitoring.trace.."};
    private static final String[] PURE_PACKAGES = {"dev.pipelab.model..", "dev.pipelab.schedule..", "dev.pipelab.scenario..", "dev.pipelab.fault..",
            "dev.pipelab.plan..", "dev.pipelab.numerics..", "dev.pipelab.clock..", "dev.pipelab.goodput.."};
    private static final Set<String> HALF_PURE_PACKAGES = Set.of("dev.pipelab.link", "dev.pipelab.stage");
    /** The decisions the pipeline's actors delegate, so that plain unit tests drive them. */
    private static final List<String> PURE_PARTNERS_IN_PIPELINE = List.of("dev.pipelab.pipeline.Quiescence", "dev.pipelab.pipeline.DataLoader",
            "dev.pipelab.pipeline.PartInbox", "dev.pipelab.pipeline.Lineage");

    /**
     * A class of {@code link} or {@code stage} that is neither an actor (a Pekko behaviour, with the protocol nested in
     * it) nor an actor's setup message ({@code *Setup}, which carries actor references or travels with a spawn).
     */
    private static final DescribedPredicate<JavaClass> PURE_HALF_OF_LINK_AND_STAGE = DescribedPredicate.describe(
            "are in link or stage but are no actor nor an actor's setup message",
            c -> HALF_PURE_PACKAGES.contains(c.getPackageName()) && !isActorOrSetup(outermost(c)));

    private static final DescribedPredicate<JavaClass> PURE_PARTNER_IN_PIPELINE = DescribedPredicate.describe(
            "are the pipeline's pure partners " + PURE_PARTNERS_IN_PIPELINE,
            c -> PURE_PARTNERS_IN_PIPELINE.contains(outermost(c).getName()));

    /** Monitoring's test helpers reach the actors' tests as a test-jar; DoNotIncludeTests only knows test directories. */
    static final class NoTestJars implements ImportOption {
        @Override
        public boolean includes(Location location) {
            return !location.contains("-tests.jar");
        }
    }

    @ArchTest
    static final ArchRule actorPackagesFormNoCycle = slices().matching("dev.pipelab.(*)..").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule monitoringPackagesFormNoCycle = slices().assignedFrom(new MonitoringPackages()).should().beFreeOfCycles();

    @ArchTest
    static final ArchRule pureCoreKnowsNoPekkoNorTelemetryConsumers = noClasses()
            .that().resideInAnyPackage(PURE_PACKAGES).or(PURE_HALF_OF_LINK_AND_STAGE).or(PURE_PARTNER_IN_PIPELINE)
            .should().dependOnClassesThat().resideInAPackage(PEKKO)
            .orShould().dependOnClassesThat().resideInAnyPackage(TELEMETRY_CONSUMERS);

    @ArchTest
    static final ArchRule monitoringKnowsNoPekko = noClasses()
            .that().resideInAPackage("dev.pipelab.monitoring..")
            .should().dependOnClassesThat().resideInAPackage(PEKKO);

    @ArchTest
    static final ArchRule noGrabBagPackages = noClasses()
            .should().resideInAnyPackage("..util..", "..utils..", "..helpers..", "..common..")
            .because("a package is named after what its classes are about");

    /** Guards the rules above against passing on an empty or partial import. */
    @ArchTest
    static void importsTheMainClassesOfBothModules(JavaClasses classes) {
        assertThat(classes.contain("dev.pipelab.schedule.Evaluator")).as("actors' main classes").isTrue();
        assertThat(classes.contain("dev.pipelab.stage.Stage")).as("an actor").isTrue();
        assertThat(classes.contain("dev.pipelab.monitoring.dashboard.DashboardServer")).as("monitoring's main classes").isTrue();
        assertThat(classes.stream().filter(c -> c.getSimpleName().endsWith("Test"))).as("test classes").isEmpty();
        assertThat(classes.that(PURE_HALF_OF_LINK_AND_STAGE)).extracting(JavaClass::getName)
                .contains("dev.pipelab.link.LinkState", "dev.pipelab.link.CreditWindow", "dev.pipelab.stage.StageProgram")
                .doesNotContain("dev.pipelab.stage.Stage", "dev.pipelab.link.Link");
        assertThat(classes.that(PURE_PARTNER_IN_PIPELINE)).as("the pipeline's pure partners").isNotEmpty();
    }

    private static JavaClass outermost(JavaClass c) {
        JavaClass top = c;
        while (top.getEnclosingClass().isPresent()) top = top.getEnclosingClass().get();
        return top;
    }

    private static boolean isActorOrSetup(JavaClass top) {
        return top.getSimpleName().endsWith("Setup")
                || top.isAssignableTo("org.apache.pekko.actor.typed.Behavior")
                || top.getMethods().stream().anyMatch(m -> m.getRawReturnType().getName().equals("org.apache.pekko.actor.typed.Behavior"));
    }

    /** {@code monitoring}'s own package is one slice, each subpackage tree below it another. */
    private static final class MonitoringPackages implements SliceAssignment {
        private static final String ROOT = "dev.pipelab.monitoring";

        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String pkg = c.getPackageName();
            if (pkg.equals(ROOT)) return SliceIdentifier.of("monitoring");
            if (!pkg.startsWith(ROOT + ".")) return SliceIdentifier.ignore();
            String rest = pkg.substring(ROOT.length() + 1);
            int dot = rest.indexOf('.');
            return SliceIdentifier.of("monitoring." + (dot < 0 ? rest : rest.substring(0, dot)));
        }

        @Override
        public String getDescription() {
            return "monitoring and each of its subpackages";
        }
    }
}
