#ifndef PATRON_CHARU_H
#define PATRON_CHARU_H
/* libharu (Debian libhpdf-dev): PDF exports. No wrappers needed: every call used is a plain C
 * function. */
#include <hpdf.h>
#endif
