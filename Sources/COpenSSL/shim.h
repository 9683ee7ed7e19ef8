// OpenSSL 3 (Debian package libssl-dev): digests, HMAC and PBKDF2 for authentication, TLS for secure ports.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
