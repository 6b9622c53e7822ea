#!/usr/bin/env bash
# Makes the keys of a TLS pipelab cluster with keytool (JDK) only:
#
#   cluster-config/make-keys.sh [--force] DIR NODE...
#
#   DIR/ca.p12            the cluster's CA: its key signs every node's certificate; keep it off the nodes
#   DIR/ca.crt            the CA's certificate (PEM)
#   DIR/truststore.p12    the CA's certificate alone: every node trusts exactly the certificates the CA signed
#   DIR/NODE.p12          per node: its key and its certificate signed by the CA (SAN IP:127.0.0.1, DNS:localhost,
#                         DNS:NODE; usable as TLS server and client, since Artery TLS authenticates both ends)
#
# All stores are PKCS12 with one password, PIPELAB_TLS_PASSWORD (default "changeit"; with PKCS12 the key password is
# the store password). A node uses them through cluster-config/tls.conf:
#
#   PIPELAB_TLS_KEYSTORE=DIR/NODE.p12 PIPELAB_TLS_TRUSTSTORE=DIR/truststore.p12 \
#     ./pipelab node --role worker --config cluster-config/tls.conf ...
#
# Running it again adds the nodes that are missing and keeps what exists (the same CA signs them); --force makes
# everything anew, CA included, after which every node needs its new store. Extra SANs for multi-host clusters:
# PIPELAB_TLS_SAN (e.g. "IP:10.0.0.5,DNS:node-a.lan") is added to every node's certificate.
set -euo pipefail

usage() {
  echo "usage: $0 [--force] DIR NODE..." >&2
  echo "  makes DIR/ca.p12, DIR/truststore.p12 and DIR/NODE.p12 for each NODE (a name like node-0)" >&2
  exit 2
}

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
[ $# -ge 2 ] || usage
dir="$1"; shift
for node in "$@"; do
  if ! [[ "$node" =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]]; then
    echo "$0: node name '$node' must be letters, digits, '.' or '-' (it is also a DNS name in the certificate)" >&2
    exit 2
  fi
  if [ "$node" = ca ] || [ "$node" = truststore ]; then
    echo "$0: node name '$node' is taken by the CA's files" >&2
    exit 2
  fi
done
command -v keytool >/dev/null || { echo "$0: keytool not found (it comes with the JDK)" >&2; exit 1; }

pass="${PIPELAB_TLS_PASSWORD:-changeit}"
if [ ${#pass} -lt 6 ]; then echo "$0: PIPELAB_TLS_PASSWORD must have at least 6 characters (keytool's rule)" >&2; exit 2; fi
days=3650
mkdir -p "$dir"

if [ $force = 1 ]; then
  rm -f "$dir/ca.p12" "$dir/ca.crt" "$dir/truststore.p12"
  for node in "$@"; do rm -f "$dir/$node.p12"; done
elif [ -e "$dir/ca.p12" ] && [ ! -e "$dir/truststore.p12" ]; then
  echo "$0: $dir/ca.p12 exists but $dir/truststore.p12 does not: run with --force to make all anew" >&2
  exit 1
fi

# keytool reads passwords from the environment (:env), so they never show in ps
export PIPELAB_TLS_PASSWORD="$pass"
# keytool's chatter goes to stderr: stdout lists what was made. Each call is a short JVM: the client compiler and
# the serial collector start it quicker
kt() { keytool -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 "$@" -storetype PKCS12 -storepass:env PIPELAB_TLS_PASSWORD >&2; }

made=()
if [ ! -e "$dir/ca.p12" ]; then
  # bc:c marks it a CA, so that peers accept the certificates it signs
  kt -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=pipelab cluster CA" -ext bc:c \
    -validity $days -keystore "$dir/ca.p12"
  kt -exportcert -rfc -alias ca -keystore "$dir/ca.p12" \
    -file "$dir/ca.crt"
  kt -importcert -noprompt -alias ca -file "$dir/ca.crt" -keystore "$dir/truststore.p12"
  made+=("$dir/ca.p12 (the CA; keep it off the nodes)" "$dir/ca.crt" "$dir/truststore.p12")
fi

san="IP:127.0.0.1,DNS:localhost"
for node in "$@"; do
  store="$dir/$node.p12"
  if [ -e "$store" ]; then
    echo "$0: $store exists, kept (--force makes all anew)" >&2
    continue
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  kt -genkeypair -alias "$node" -keyalg EC -groupname secp256r1 -dname "CN=$node, O=pipelab" -validity $days \
    -keystore "$tmp/$node.p12"
  kt -certreq -alias "$node" -keystore "$tmp/$node.p12" \
    -file "$tmp/$node.csr"
  kt -gencert -alias ca -keystore "$dir/ca.p12" \
    -infile "$tmp/$node.csr" -outfile "$tmp/$node.crt" -rfc -validity $days \
    -ext "SAN=$san,DNS:$node${PIPELAB_TLS_SAN:+,$PIPELAB_TLS_SAN}" -ext EKU=serverAuth,clientAuth
  # the CA's certificate first, so that keytool can chain the signed reply to it
  kt -importcert -noprompt -alias ca -file "$dir/ca.crt" -keystore "$tmp/$node.p12"
  kt -importcert -alias "$node" -file "$tmp/$node.crt" -keystore "$tmp/$node.p12"
  mv "$tmp/$node.p12" "$store"
  rm -rf "$tmp"
  trap - EXIT
  made+=("$store")
done

if [ ${#made[@]} -eq 0 ]; then
  echo "make-keys: nothing new in $dir"
else
  for f in "${made[@]}"; do echo "make-keys: made $f"; done
fi
