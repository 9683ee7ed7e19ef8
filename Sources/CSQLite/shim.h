// SQLite 3 for the transactional outbox sample (Debian package libsqlite3-dev).
#include <sqlite3.h>
