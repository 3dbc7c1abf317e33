/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the hand-made fuzzer seeds: `gen_seeds DIR` fills DIR/rsdt/ (fake physical memory images
 * for fuzz_rsdt, in the input format fuzz_rsdt.c describes) and adds gen-*.dat tables to DIR/dmar/
 * and DIR/ivrs/ covering what the corpus of real tables lacks: several segments, DRHDs without
 * INCLUDE_PCI_ALL, bridge scopes with multi-level paths, ATSR ALL_PORTS, SATC, SIDP, IVMD 20h,
 * IVHD alias, extended, special and ACPI HID entries, many IOMMUs.
 * Layouts: ACPI 6.5 sections 5.2.5.3, 5.2.6-5.2.8; VT-d 4.1 chapter 8; AMD IOMMU 48882 section 5.2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moat/acpi.h>

#include "fuzz_rsdt.h"

struct buf {
	uint8_t b[8192];
	size_t n;
};

static size_t put(struct buf *o, const void *p, size_t n)
{
	size_t at = o->n;
	if (o->n + n > sizeof(o->b)) {
		fprintf(stderr, "gen_seeds: buffer full\n");
		exit(1);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
	return at;
}

static size_t u8(struct buf *o, unsigned v)
{
	uint8_t x = (uint8_t)v;
	return put(o, &x, 1);
}

static size_t u16(struct buf *o, unsigned v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return put(o, x, 2);
}

static size_t u32(struct buf *o, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return put(o, x, 4);
}

static size_t u64(struct buf *o, uint64_t v)
{
	size_t at = u32(o, (uint32_t)v);
	u32(o, (uint32_t)(v >> 32));
	return at;
}

static void zeros(struct buf *o, size_t n)
{
	static const uint8_t z[64];
	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		put(o, z, k);
		n -= k;
	}
}

static void set16(struct buf *o, size_t at, unsigned v)
{
	o->b[at] = (uint8_t)v;
	o->b[at + 1] = (uint8_t)(v >> 8);
}

static void set32(struct buf *o, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o->b[at + i] = (uint8_t)(v >> (8 * i));
}

/* ACPI table header (36 bytes) at the end of @o; returns its offset. */
static size_t acpi_header(struct buf *o, const char *sig, unsigned revision)
{
	size_t at = put(o, sig, 4);
	u32(o, 0);
	u8(o, revision);
	u8(o, 0);
	put(o, "MOAT  ", 6);
	put(o, "FUZZSEED", 8);
	u32(o, 1);
	put(o, "MOAT", 4);
	u32(o, 1);
	return at;
}

/* Set the length of the table at @at to end here and fix its checksum. */
static void acpi_finish(struct buf *o, size_t at)
{
	size_t len = o->n - at;
	set32(o, at + 4, (uint32_t)len);
	o->b[at + 9] = 0;
	o->b[at + 9] = (uint8_t)(0x100 - moat_acpi_checksum(o->b + at, len));
}

/* A structure whose 16-bit length sits at @at + 2 ends here. */
static void struct_end(struct buf *o, size_t at)
{
	set16(o, at + 2, (unsigned)(o->n - at));
}

/* DMAR device scope (VT-d 8.3.1) with @n path elements. */
static void scope(struct buf *o, unsigned type, unsigned id, unsigned bus, const uint8_t *path, unsigned n)
{
	u8(o, type);
	u8(o, 6 + 2 * n);
	u16(o, 0);
	u8(o, id);
	u8(o, bus);
	put(o, path, 2 * n);
}

/* QEMU-like q35 DMAR: one unit for everything, the IOAPIC scope, interrupt remapping. */
static void dmar_qemu(struct buf *o)
{
	size_t t = acpi_header(o, "DMAR", 1), s;
	u8(o, 38);
	u8(o, 1);
	zeros(o, 10);
	s = u16(o, 0);
	u16(o, 0);
	u8(o, 1);
	u8(o, 0);
	u16(o, 0);
	u64(o, 0xfed90000);
	scope(o, 3, 0, 0xff, (const uint8_t[]){ 0, 0 }, 1);
	struct_end(o, s);
	s = u16(o, 2); /* ATSR, ALL_PORTS */
	u16(o, 0);
	u8(o, 1);
	u8(o, 0);
	u16(o, 0);
	struct_end(o, s);
	acpi_finish(o, t);
}

/* Two segments, units without INCLUDE_PCI_ALL, bridges, every structure type, a reserved one. */
static void dmar_server(struct buf *o)
{
	size_t t = acpi_header(o, "DMAR", 1), s;
	u8(o, 45);
	u8(o, 0x05);
	zeros(o, 10);
	for (unsigned seg = 0; seg < 2; seg++) {
		/* a unit for one endpoint and a bridge with a two-level path */
		s = u16(o, 0);
		u16(o, 0);
		u8(o, 0);
		u8(o, 1);
		u16(o, seg);
		u64(o, 0xfbffc000ull + seg * 0x100000);
		scope(o, 1, 0, 0, (const uint8_t[]){ 2, 0 }, 1);
		scope(o, 2, 0, 0x10, (const uint8_t[]){ 3, 0, 0, 1 }, 2);
		struct_end(o, s);
		/* the catch-all unit of the segment, with IOAPIC and HPET */
		s = u16(o, 0);
		u16(o, 0);
		u8(o, 1);
		u8(o, 0);
		u16(o, seg);
		u64(o, 0xfbffe000ull + seg * 0x100000);
		scope(o, 3, (unsigned)(8 + seg), 0xf0, (const uint8_t[]){ 31, 0 }, 1);
		scope(o, 4, 0, 0xf0, (const uint8_t[]){ 15, 0 }, 1);
		scope(o, 5, 1, 0, (const uint8_t[]){ 21, 1 }, 1);
		struct_end(o, s);
	}
	/* RMRR for a USB controller and a device behind a bridge */
	s = u16(o, 1);
	u16(o, 0);
	u16(o, 0);
	u16(o, 0);
	u64(o, 0x7d000000);
	u64(o, 0x7d7fffff);
	scope(o, 1, 0, 0, (const uint8_t[]){ 20, 0 }, 1);
	scope(o, 1, 0, 0, (const uint8_t[]){ 28, 0, 0, 0 }, 2);
	struct_end(o, s);
	/* ATSR for one root port, ALL_PORTS on segment 1 */
	s = u16(o, 2);
	u16(o, 0);
	u8(o, 0);
	u8(o, 0);
	u16(o, 0);
	scope(o, 2, 0, 0, (const uint8_t[]){ 1, 0 }, 1);
	struct_end(o, s);
	s = u16(o, 2);
	u16(o, 0);
	u8(o, 1);
	u8(o, 0);
	u16(o, 1);
	struct_end(o, s);
	/* RHSA */
	s = u16(o, 3);
	u16(o, 0);
	u32(o, 0);
	u64(o, 0xfbffe000ull);
	u32(o, 1);
	struct_end(o, s);
	/* ANDD padded past its name */
	s = u16(o, 4);
	u16(o, 0);
	zeros(o, 3);
	u8(o, 1);
	put(o, "\\_SB.PCI0.UA01\0\0\0", 17);
	struct_end(o, s);
	/* SATC */
	s = u16(o, 5);
	u16(o, 0);
	u8(o, 1);
	u8(o, 0);
	u16(o, 0);
	scope(o, 1, 0, 0, (const uint8_t[]){ 2, 0 }, 1);
	struct_end(o, s);
	/* SIDP */
	s = u16(o, 6);
	u16(o, 0);
	u16(o, 0);
	u16(o, 0);
	scope(o, 1, 0, 0, (const uint8_t[]){ 2, 0 }, 1);
	struct_end(o, s);
	/* a reserved structure type, skipped by its length */
	s = u16(o, 99);
	u16(o, 0);
	u32(o, 0xdeadbeef);
	struct_end(o, s);
	acpi_finish(o, t);
}

static void ivhd_entry4(struct buf *o, unsigned type, unsigned devid, unsigned setting)
{
	u8(o, type);
	u16(o, devid);
	u8(o, setting);
}

static void ivhd_entry8(struct buf *o, unsigned type, unsigned devid, unsigned setting, uint32_t data)
{
	ivhd_entry4(o, type, devid, setting);
	u32(o, data);
}

/* IVHD 10h or 11h/40h header; returns its offset. */
static size_t ivhd(struct buf *o, unsigned type, unsigned devid, uint64_t base, unsigned seg)
{
	size_t s = u8(o, type);
	u8(o, 0x30);
	u16(o, 0);
	u16(o, devid);
	u16(o, 0x40);
	u64(o, base);
	u16(o, seg);
	u16(o, 0);
	if (type == 0x10) {
		u32(o, 0x80048f6e);
	} else {
		u32(o, 0x00048000);
		u64(o, 0x246577efa2254afaull);
		zeros(o, 8);
	}
	return s;
}

static void ivmd(struct buf *o, unsigned type, unsigned flags, unsigned devid, unsigned aux, uint64_t start,
		 uint64_t len)
{
	u8(o, type);
	u8(o, flags);
	u16(o, 32);
	u16(o, devid);
	u16(o, aux);
	zeros(o, 8);
	u64(o, start);
	u64(o, len);
}

/* Two IOMMUs on two segments, each as 10h and 40h; every entry type; all three IVMD types. */
static void ivrs_server(struct buf *o)
{
	size_t t = acpi_header(o, "IVRS", 2), s;
	u32(o, 0x00203041);
	zeros(o, 8);
	for (unsigned seg = 0; seg < 2; seg++) {
		for (unsigned k = 0; k < 2; k++) {
			unsigned type = k ? 0x40 : 0x10;
			s = ivhd(o, type, 0x0002, 0xfd200000ull + seg * 0x100000, seg);
			ivhd_entry4(o, 3, 0x0000, 0);
			ivhd_entry4(o, 4, 0x00ff, 0);
			ivhd_entry4(o, 2, 0x0100, 0xd7);
			ivhd_entry4(o, 0, 0, 0);
			ivhd_entry8(o, 66, 0x0200, 0, (uint32_t)0x00a0 << 8);   /* seen as 00:14.0 */
			ivhd_entry8(o, 67, 0x0300, 0, (uint32_t)0x0030 << 8);   /* seen as 00:06.0 */
			ivhd_entry4(o, 4, 0x03ff, 0);
			ivhd_entry8(o, 70, 0x0400, 0, 0x80000000u);
			ivhd_entry8(o, 71, 0x0500, 0, 0x80000000u);
			ivhd_entry4(o, 4, 0x05ff, 0);
			ivhd_entry8(o, 72, 0, 0xd7, 0x0100a021u);  /* IOAPIC 0x21 as 00:14.0 */
			ivhd_entry8(o, 72, 0, 0, 0x0200a000u);     /* HPET 0 as 00:14.0 */
			ivhd_entry8(o, 64, 0, 0, 0);
			if (type == 0x40) {
				/* ACPI HID: string HID, EISA CID, string UID */
				ivhd_entry4(o, 240, 0x00a5, 0x40);
				put(o, "AMDI0020", 8);
				u32(o, 0x0c0cd041);
				u32(o, 0);
				u8(o, 2);
				u8(o, 4);
				put(o, "ID00", 4);
				/* integer UID */
				ivhd_entry4(o, 240, 0x00a6, 0x40);
				put(o, "AMDI0020", 8);
				zeros(o, 8);
				u8(o, 1);
				u8(o, 1);
				u8(o, 3);
			}
			ivhd_entry4(o, 1, 0, 0);
			struct_end(o, s);
		}
	}
	ivmd(o, 0x20, 0x07, 0, 0, 0x7a000000, 0x100000);
	ivmd(o, 0x21, 0x07, 0x0010, 0, 0x7b000000, 0x1000);
	ivmd(o, 0x22, 0x08, 0x0100, 0x01ff, 0x7c000000, 0x4000);
	/* an undocumented structure type, skipped by its length */
	s = u8(o, 0x51);
	u8(o, 0);
	u16(o, 0);
	u32(o, 0);
	struct_end(o, s);
	acpi_finish(o, t);
}

/* A small IVRS with one 11h IOMMU. */
static void ivrs_small(struct buf *o)
{
	size_t t = acpi_header(o, "IVRS", 2), s;
	u32(o, 0x00203041);
	zeros(o, 8);
	s = ivhd(o, 0x11, 0x0002, 0xfeb80000ull, 0);
	ivhd_entry4(o, 3, 0x0008, 0);
	ivhd_entry4(o, 4, 0xfffe, 0);
	ivhd_entry8(o, 72, 0, 0xd7, 0x0100a021u);
	struct_end(o, s);
	acpi_finish(o, t);
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: cannot write %s\n", path);
		exit(1);
	}
}

static void write_table(const char *dir, const char *sub, const char *name, void (*make)(struct buf *))
{
	char d[4096];
	struct buf o = { .n = 0 };

	make(&o);
	snprintf(d, sizeof(d), "%s/%s", dir, sub);
	write_file(d, name, o.b, o.n);
}

/* RSDP (ACPI 6.5 section 5.2.5.3) at offset @at of @o, which must already hold 36 bytes there. */
static void rsdp_at(struct buf *o, size_t at, unsigned revision, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *p = o->b + at;

	memset(p, 0, 36);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "MOAT  ", 6);
	p[15] = (uint8_t)revision;
	for (int i = 0; i < 4; i++)
		p[16 + i] = (uint8_t)(rsdt >> (8 * i));
	p[8] = (uint8_t)(0x100 - moat_acpi_checksum(p, 20));
	if (revision >= 2) {
		p[20] = 36;
		for (int i = 0; i < 8; i++)
			p[24 + i] = (uint8_t)(xsdt >> (8 * i));
		p[32] = (uint8_t)(0x100 - moat_acpi_checksum(p, 36));
	}
}

static void pad_to(struct buf *o, size_t off)
{
	if (o->n < off)
		zeros(o, off - o->n);
}

/*
 * A memory image for fuzz_rsdt: the input header, then the image with an RSDP at @rsdp_off
 * (preceded by a broken one when @decoy), an RSDT and an XSDT listing FACP, DMAR, SSDT, IVRS, DMAR.
 * @hi: the XSDT entries use the mirror of the image above 4 GiB.
 */
static void rsdt_image(const char *dir, const char *name, unsigned flags, unsigned revision, size_t rsdp_off,
		       int decoy, int hi)
{
	struct buf o = { .n = 0 };
	size_t img, x, r, tabs[5];
	const uint64_t base = FUZZ_RSDT_IMAGE_BASE;
	const uint64_t xbase = hi ? FUZZ_RSDT_IMAGE_BASE_HI : base;

	zeros(&o, FUZZ_RSDT_HEADER_SIZE);
	img = o.n;
	pad_to(&o, img + 0x100);
	/* tables from image offset 0x100 */
	tabs[0] = acpi_header(&o, "FACP", 6) - img;
	zeros(&o, 40);
	acpi_finish(&o, img + tabs[0]);
	pad_to(&o, img + 0x180);
	tabs[1] = o.n - img;
	dmar_qemu(&o);
	pad_to(&o, img + 0x200);
	tabs[2] = acpi_header(&o, "SSDT", 2) - img;
	put(&o, "\x10\x12\x5c\x5f\x53\x42\x5f", 7);
	acpi_finish(&o, img + tabs[2]);
	pad_to(&o, img + 0x240);
	tabs[3] = o.n - img;
	ivrs_small(&o);
	pad_to(&o, img + 0x300);
	tabs[4] = o.n - img;
	dmar_qemu(&o);
	/* RSDT at 0x380 (4 entries), XSDT at 0x3c4 (5 entries, not 8-byte aligned) */
	pad_to(&o, img + 0x380);
	r = acpi_header(&o, "RSDT", 1);
	for (int i = 0; i < 4; i++)
		u32(&o, (uint32_t)(base + tabs[i]));
	acpi_finish(&o, r);
	pad_to(&o, img + 0x3c4);
	x = acpi_header(&o, "XSDT", 1);
	for (int i = 0; i < 5; i++)
		u64(&o, xbase + tabs[i]);
	acpi_finish(&o, x);
	pad_to(&o, img + 0x440);

	if (decoy) {
		rsdp_at(&o, img + rsdp_off - 16, revision, 0x1234, 0x5678);
		o.b[img + rsdp_off - 16 + 8] ^= 0x5a;
	}
	rsdp_at(&o, img + rsdp_off, revision, (uint32_t)(base + r - img), revision >= 2 ? xbase + x - img : 0);

	/* the input header: the same RSDP given directly */
	o.b[FUZZ_RSDT_OFF_FLAGS] = (uint8_t)flags;
	o.b[FUZZ_RSDT_OFF_REVISION] = (uint8_t)revision;
	set32(&o, FUZZ_RSDT_OFF_RSDT, (uint32_t)(base + r - img));
	if (revision >= 2) {
		uint64_t xa = xbase + x - img;
		set32(&o, FUZZ_RSDT_OFF_XSDT, (uint32_t)xa);
		set32(&o, FUZZ_RSDT_OFF_XSDT + 4, (uint32_t)(xa >> 32));
	}
	o.b[FUZZ_RSDT_OFF_SELECT] = 0;
	write_file(dir, name, o.b, o.n);
}

int main(int argc, char **argv)
{
	char d[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	write_table(argv[1], "dmar", "gen-qemu.dat", dmar_qemu);
	write_table(argv[1], "dmar", "gen-server.dat", dmar_server);
	write_table(argv[1], "ivrs", "gen-server.dat", ivrs_server);
	write_table(argv[1], "ivrs", "gen-small.dat", ivrs_small);
	snprintf(d, sizeof(d), "%s/rsdt", argv[1]);
	rsdt_image(d, "xsdt-rev2.bin", 0, 2, 0x40, 0, 0);
	rsdt_image(d, "xsdt-rev2-high-fixsums.bin", FUZZ_RSDT_FIX_ROOT | FUZZ_RSDT_FIX_TABLES, 2, 0x20, 1, 1);
	rsdt_image(d, "rsdt-rev0.bin", 0, 0, 0x60, 1, 0);
	rsdt_image(d, "rsdt-rev0-fixsums.bin", FUZZ_RSDT_FIX_ROOT | FUZZ_RSDT_FIX_TABLES, 0, 0x00, 0, 0);
	return 0;
}
