#!/usr/bin/env bash
# Makes TLS material for coordd's secure client port, in PEM, with the openssl CLI:
#   ca.pem / ca.key          a self-signed CA (trust store for servers and clients)
#   server.pem / server.key  server certificate (SAN: localhost, 127.0.0.1, ::1 and $CERTS_SERVER_NAMES), signed by the CA
#   client.pem / client.key  client certificate (subject $CERTS_CLIENT_SUBJECT, default /CN=${CERTS_CLIENT_CN:-coordd-client}), signed by the CA
#   server-chain.pem         server certificate followed by the CA
#   server-keystore.pem      server key + chain: coordd's ssl.keyStore.location (ssl.keyStore.type=PEM)
#   client-keystore.pem      client key + chain: zkCli's zookeeper.ssl.keyStore.location (type PEM)
# Usage: deploy/certs.sh DIR   (DIR is created; existing files in it are replaced)
# Optional: CERTS_DAYS (default 825), CERTS_SERVER_NAMES="DNS:zk1.example,IP:10.0.0.5",
#           CERTS_KEY_PASSWORD=... also writes server-encrypted.key (AES-256, for ssl.keyStore.password).
#           CERTS_CA_NAME (default "coordd test CA"),
#           CERTS_PKCS12_PASSWORD=... also writes server-keystore.p12, client-keystore.p12 and truststore.p12 (Kafka's PKCS12 stores).
set -euo pipefail
dir=${1:?usage: certs.sh DIR}
days=${CERTS_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
  -subj "/CN=${CERTS_CA_NAME:-coordd test CA}" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

sign() { # name subject extensions
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

sans="DNS:localhost,IP:127.0.0.1,IP:::1${CERTS_SERVER_NAMES:+,$CERTS_SERVER_NAMES}"
sign server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$sans"
sign client "${CERTS_CLIENT_SUBJECT:-/CN=${CERTS_CLIENT_CN:-coordd-client}}" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
cat server.pem ca.pem > server-chain.pem
# ZooKeeper's PEM key stores: the private key and the certificate chain in one file.
cat server.key server.pem ca.pem > server-keystore.pem
cat client.key client.pem ca.pem > client-keystore.pem
if [ -n "${CERTS_KEY_PASSWORD:-}" ]; then
  openssl pkey -in server.key -aes256 -passout "pass:$CERTS_KEY_PASSWORD" -out server-encrypted.key
fi
if [ -n "${CERTS_PKCS12_PASSWORD:-}" ]; then
  for who in server client; do
    openssl pkcs12 -export -in "$who.pem" -inkey "$who.key" -certfile ca.pem -name "$who" \
      -passout "pass:$CERTS_PKCS12_PASSWORD" -out "$who-keystore.p12"
  done
  openssl pkcs12 -export -nokeys -in ca.pem -name ca -passout "pass:$CERTS_PKCS12_PASSWORD" -out truststore.p12
fi
rm -f ca.srl
chmod 644 ca.pem server.pem client.pem server-chain.pem
echo "certificates in $(pwd): ca.pem server.pem server.key client.pem client.key server-chain.pem server-keystore.pem client-keystore.pem"
