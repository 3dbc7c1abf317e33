/* SPDX-License-Identifier: BSD-2-Clause */
#include <moat/status.h>

static const char *const status_names[MOAT_STATUS_COUNT] = {
	[MOAT_OK] = "MOAT_OK",
	[MOAT_END] = "MOAT_END",
	[MOAT_ERR_INVALID_ARG] = "MOAT_ERR_INVALID_ARG",
	[MOAT_ERR_TRUNCATED] = "MOAT_ERR_TRUNCATED",
	[MOAT_ERR_MALFORMED] = "MOAT_ERR_MALFORMED",
	[MOAT_ERR_CHECKSUM] = "MOAT_ERR_CHECKSUM",
	[MOAT_ERR_NOT_FOUND] = "MOAT_ERR_NOT_FOUND",
	[MOAT_ERR_NO_MEMORY] = "MOAT_ERR_NO_MEMORY",
	[MOAT_ERR_NO_SPACE] = "MOAT_ERR_NO_SPACE",
	[MOAT_ERR_UNSUPPORTED] = "MOAT_ERR_UNSUPPORTED",
	[MOAT_ERR_TIMEOUT] = "MOAT_ERR_TIMEOUT",
	[MOAT_ERR_OVERLAP] = "MOAT_ERR_OVERLAP",
	[MOAT_ERR_PROTECTED] = "MOAT_ERR_PROTECTED",
	[MOAT_ERR_BUSY] = "MOAT_ERR_BUSY",
	[MOAT_ERR_HARDWARE] = "MOAT_ERR_HARDWARE",
	[MOAT_ERR_ALIGNMENT] = "MOAT_ERR_ALIGNMENT",
	[MOAT_ERR_STATE] = "MOAT_ERR_STATE",
};

static const char *const status_texts[MOAT_STATUS_COUNT] = {
	[MOAT_OK] = "success",
	[MOAT_END] = "no more items",
	[MOAT_ERR_INVALID_ARG] = "invalid argument",
	[MOAT_ERR_TRUNCATED] = "structure runs past the end of its table",
	[MOAT_ERR_MALFORMED] = "malformed firmware structure",
	[MOAT_ERR_CHECKSUM] = "checksum does not sum to zero",
	[MOAT_ERR_NOT_FOUND] = "not found",
	[MOAT_ERR_NO_MEMORY] = "out of memory",
	[MOAT_ERR_NO_SPACE] = "caller-provided array too small",
	[MOAT_ERR_UNSUPPORTED] = "not supported",
	[MOAT_ERR_TIMEOUT] = "hardware wait timed out",
	[MOAT_ERR_OVERLAP] = "range overlaps an existing one",
	[MOAT_ERR_PROTECTED] = "range touches protected memory",
	[MOAT_ERR_BUSY] = "object in use",
	[MOAT_ERR_HARDWARE] = "hardware reported an error",
	[MOAT_ERR_ALIGNMENT] = "address or size not aligned",
	[MOAT_ERR_STATE] = "invalid in the current state",
};

const char *moat_status_str(moat_status status)
{
	unsigned v = (unsigned)status;

	if (v < MOAT_STATUS_COUNT && status_names[v])
		return status_names[v];
	return "MOAT_STATUS_UNKNOWN";
}

const char *moat_status_text(moat_status status)
{
	unsigned v = (unsigned)status;

	if (v < MOAT_STATUS_COUNT && status_texts[v])
		return status_texts[v];
	return "unknown status";
}
