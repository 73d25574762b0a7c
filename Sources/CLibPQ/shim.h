// libpq, PostgreSQL's own client library; its header sits under include/postgresql (pkg-config libpq).
#include <libpq-fe.h>
