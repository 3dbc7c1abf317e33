/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MADT. Layout: ACPI 6.5, section 5.2.12 (table 5.19: the 36-byte header, the local interrupt
 * controller address at 36, flags at 40 with PCAT_COMPAT in bit 0, then entries of type (1 byte)
 * and length (1 byte)). Entries used: 0 processor local APIC (5.2.12.2: UID at 2, APIC id at 3,
 * flags at 4 with Enabled in bit 0 and Online Capable in bit 1), 1 I/O APIC (5.2.12.3: id at 2,
 * address at 4, GSI base at 8), 2 interrupt source override (5.2.12.5: bus at 2, source at 3, GSI
 * at 4, flags at 8), 5 local APIC address override (5.2.12.8: 64-bit address at 4), 9 processor
 * local x2APIC (5.2.12.12: x2APIC id at 4, flags at 8, UID at 12).
 */
#include <moat/internal/lib.h>

#include "acpi/firmware.h"
#include "acpi/madt.h"
#include "kernel.h"

#define MADT_LAPIC_ADDR    36u
#define MADT_FLAGS         40u
#define  MADT_PCAT_COMPAT  0x1u
#define MADT_ENTRIES       44u

enum {
	MADT_LOCAL_APIC = 0,
	MADT_IO_APIC = 1,
	MADT_SOURCE_OVERRIDE = 2,
	MADT_LAPIC_ADDRESS_OVERRIDE = 5,
	MADT_LOCAL_X2APIC = 9,
};

#define MADT_CPU_ENABLED        0x1u
#define MADT_CPU_ONLINE_CAPABLE 0x2u

/* The smallest length each entry type used here may have. */
static unsigned min_length(uint8_t type)
{
	switch (type) {
	case MADT_LOCAL_APIC:
		return 8;
	case MADT_IO_APIC:
		return 12;
	case MADT_SOURCE_OVERRIDE:
		return 10;
	case MADT_LAPIC_ADDRESS_OVERRIDE:
		return 12;
	case MADT_LOCAL_X2APIC:
		return 16;
	default:
		return 2;
	}
}

static void add_cpu(struct madt *out, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2)
{
	if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)))
		return;
	if (out->cpu_count == MADT_MAX_CPUS) {
		out->skipped++;
		return;
	}
	out->cpus[out->cpu_count++] = (struct madt_cpu){ apic_id, uid, x2 };
}

static void take_entry(struct madt *out, const uint8_t *e)
{
	switch (e[0]) {
	case MADT_LOCAL_APIC:
		add_cpu(out, e[3], e[2], moat_le32(e + 4), false);
		break;
	case MADT_LOCAL_X2APIC:
		add_cpu(out, moat_le32(e + 4), moat_le32(e + 12), moat_le32(e + 8), true);
		break;
	case MADT_IO_APIC:
		if (out->ioapic_count == MADT_MAX_IOAPICS) {
			out->skipped++;
			break;
		}
		out->ioapics[out->ioapic_count++] = (struct madt_ioapic){ e[2], moat_le32(e + 4), moat_le32(e + 8) };
		break;
	case MADT_SOURCE_OVERRIDE:
		if (out->override_count == MADT_MAX_OVERRIDES) {
			out->skipped++;
			break;
		}
		out->overrides[out->override_count++] =
			(struct madt_override){ e[2], e[3], moat_le32(e + 4), moat_le16(e + 8) };
		break;
	case MADT_LAPIC_ADDRESS_OVERRIDE:
		out->lapic_address = moat_le64(e + 4);
		break;
	default:
		break;
	}
}

bool madt_read(const struct firmware *fw, struct madt *out)
{
	struct moat_diag diag = { 0 };
	const uint8_t *t;
	const void *table;
	uint32_t len;
	char msg[200];
	moat_status st;

	moat_memset(out, 0, sizeof(*out));
	if (!fw->have_rsdp)
		return false;
	st = moat_acpi_find_table(&fw->mem, &fw->rsdp, "APIC", 0, &table, &len, &diag);
	if (st != MOAT_OK) {
		kprintf("MADT: %s%s%s\n", moat_status_text(st), st == MOAT_ERR_NOT_FOUND ? "" : ": ",
			st == MOAT_ERR_NOT_FOUND ? "" : moat_diag_format(&diag, msg, sizeof(msg)));
		return false;
	}
	t = table;
	if (len < MADT_ENTRIES) {
		kprintf("MADT: %u bytes, shorter than its %u-byte header: ignored\n", len, MADT_ENTRIES);
		return false;
	}
	out->lapic_address = moat_le32(t + MADT_LAPIC_ADDR);
	out->pcat_compat = moat_le32(t + MADT_FLAGS) & MADT_PCAT_COMPAT;
	for (uint32_t off = MADT_ENTRIES; off < len;) {
		uint8_t type, elen;

		if (len - off < 2) {
			kprintf("MADT+0x%x: %u trailing byte(s), not an entry: ignored\n", off, len - off);
			break;
		}
		type = t[off];
		elen = t[off + 1];
		/* A zero or short length would loop or read past the entry: stop there. */
		if (elen < min_length(type) || elen > len - off) {
			kprintf("MADT+0x%x: entry of type %u with length %u (at least %u, %u bytes left): the rest "
				"ignored\n", off, type, elen, min_length(type), len - off);
			out->skipped++;
			break;
		}
		take_entry(out, t + off);
		off += elen;
	}
	out->present = true;
	return true;
}

uint32_t madt_isa_gsi(const struct madt *m, uint8_t irq, uint16_t *flags)
{
	for (unsigned i = 0; i < m->override_count; i++) {
		if (m->overrides[i].bus == 0 && m->overrides[i].source == irq) {
			if (flags)
				*flags = m->overrides[i].flags;
			return m->overrides[i].gsi;
		}
	}
	if (flags)
		*flags = 0;
	return irq;
}
