/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Status codes. Every fallible Moat function returns one of these; nothing asserts or panics.
 * Values are explicit and stable: they may be logged, stored or compared across versions.
 */
#ifndef MOAT_STATUS_H
#define MOAT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum moat_status {
	MOAT_OK = 0,               /* success */
	MOAT_END = 1,              /* an iterator has no more items (not an error) */
	MOAT_ERR_INVALID_ARG = 2,  /* an API argument is out of range or inconsistent */
	MOAT_ERR_TRUNCATED = 3,    /* a firmware structure runs past the end of its table */
	MOAT_ERR_MALFORMED = 4,    /* a firmware structure has an impossible value */
	MOAT_ERR_CHECKSUM = 5,     /* an ACPI checksum does not sum to zero */
	MOAT_ERR_NOT_FOUND = 6,    /* the table, device, domain or mapping asked for does not exist */
	MOAT_ERR_NO_MEMORY = 7,    /* the platform could not give a page */
	MOAT_ERR_NO_SPACE = 8,     /* a caller-provided array is too small; counts say how much is needed */
	MOAT_ERR_UNSUPPORTED = 9,  /* the hardware or table lacks something Moat needs */
	MOAT_ERR_TIMEOUT = 10,     /* a bounded hardware wait ran out */
	MOAT_ERR_OVERLAP = 11,     /* a range overlaps one that is already mapped or declared */
	MOAT_ERR_PROTECTED = 12,   /* the range touches memory in the protection registry */
	MOAT_ERR_BUSY = 13,        /* the object is in use (e.g. a domain with devices attached) */
	MOAT_ERR_HARDWARE = 14,    /* the hardware reported an error */
	MOAT_ERR_ALIGNMENT = 15,   /* an address or size is not aligned as required */
	MOAT_ERR_STATE = 16,       /* the call is not valid in the object's current state */
} moat_status;

/* Number of status values; every value below it has a name. */
#define MOAT_STATUS_COUNT 17

/*
 * moat_status_str() - the name of a status, e.g. "MOAT_ERR_TRUNCATED".
 * Never returns NULL: an unknown value gives "MOAT_STATUS_UNKNOWN".
 */
const char *moat_status_str(moat_status status);

/*
 * moat_status_text() - a short human description, e.g. "structure runs past the end of its table".
 * Never returns NULL.
 */
const char *moat_status_text(moat_status status);

#ifdef __cplusplus
}
#endif

#endif
