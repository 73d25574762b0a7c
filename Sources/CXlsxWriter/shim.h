#ifndef PATRON_CXLSXWRITER_H
#define PATRON_CXLSXWRITER_H
/* libxlsxwriter (Debian libxlsxwriter-dev): XLSX exports. No wrappers needed: every call used is
 * a plain C function. */
#include <xlsxwriter.h>
#endif
