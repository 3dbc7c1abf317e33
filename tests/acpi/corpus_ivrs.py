#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check moat-acpi against iasl on every real IVRS of the corpus.

For each CORPUS/ivrs/NAME.ivrs.dat, `moat-acpi --json` must exit 0 and agree, field by field, with
ACPICA's disassembly beside it (NAME.ivrs.iasl-20260408.dsl where it exists, since the older iasl
cannot decode IVHD 40h, else NAME.ivrs.dsl): IVinfo, every IVHD with every device entry, every IVMD,
every structure of unknown type, and their counts. Text mode must exit 0 and name every IOMMU base.

Usage: corpus_ivrs.py MOAT_ACPI CORPUS_DIR
       corpus_ivrs.py --malformed MOAT_ACPI FILE WHERE
The second form checks one malformed table: text and --json modes both exit 1 with a message on
stderr naming WHERE (e.g. "IVRS+0x54"); the JSON is still valid and its checksum_valid is the
truth about the file's bytes.
"""
import json
import os
import re
import subprocess
import sys

FIELD = re.compile(r'^\[([0-9A-Fa-f]+)h\s+\d+\s+[0-9A-Fa-f]+h?\]\s+(.*?)\s+:\s?(.*)$')
RAW = re.compile(r'^\s*([0-9A-Fa-f]{4,}):((?: [0-9A-Fa-f]{2})+)')
UNKNOWN = re.compile(r'^\*\*\*\* Unknown IVRS subtable type 0x([0-9A-Fa-f]+)')
IVHD_TYPES = {0x10: 24, 0x11: 40, 0x40: 40}
IVMD_TYPES = (0x20, 0x21, 0x22)


class Mismatch(Exception):
    pass


def hexval(v):
    return int(v.split()[0], 16)


def entry_length(e):
    t = e['type']
    if t == 0xF0:
        return 22 + e['uid_length']
    return 4 << (t >> 6)


def eisa(v):
    b = v.to_bytes(4, 'little')
    c1 = chr(0x40 + ((b[0] >> 2) & 0x1F))
    c2 = chr(0x40 + (((b[0] & 3) << 3) | (b[1] >> 5)))
    c3 = chr(0x40 + (b[1] & 0x1F))
    return c1 + c2 + c3 + '%02X%02X' % (b[2], b[3])


def acpi_id(value):
    """An ACPI HID/CID as iasl prints it ("AMDI0020" or an integer) -> the string moat-acpi gives."""
    if value.startswith('"'):
        return value[1:value.rindex('"')]
    v = int(value.split()[0], 16)
    if v == 0:
        return ''
    if v >> 32 == 0:
        return eisa(v)
    return '%016X' % v


def parse_dsl(path):
    """The disassembly as a header dict, a list of structures (each with its entries), raw bytes."""
    header, structs, raw = {}, [], bytearray()
    cur = entry = None
    early = False
    in_raw = False
    with open(path, encoding='latin-1') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('Raw Table Data'):
                in_raw = True
                continue
            if in_raw:
                m = RAW.match(line)
                if m:
                    raw.extend(int(x, 16) for x in m.group(2).split())
                continue
            if 'terminates early' in line:
                early = True
                continue
            m = UNKNOWN.match(line)
            if m:
                t = int(m.group(1), 16)
                if cur is not None and cur['type'] == t and not cur['entries'] and 'unknown' not in cur:
                    cur['unknown'] = True     # old iasl prints the header of what it cannot decode
                else:
                    off = cur['offset'] + cur['Length'] if cur else 48
                    cur = {'offset': off, 'type': t, 'entries': [], 'unknown': True}
                    structs.append(cur)
                entry = None
                continue
            m = FIELD.match(line)
            if not m:
                continue
            off, name, value = int(m.group(1), 16), m.group(2), m.group(3).strip()
            name = name.replace(' (decoded below)', '')
            if off < 48:
                header.setdefault(name, value)
                continue
            if name == 'Entry Type' or (name == 'Subtable Type' and 'Device Entry' in value):
                entry = {'offset': off, 'type': hexval(value)}
                cur['entries'].append(entry)
            elif name == 'Subtable Type':
                cur = {'offset': off, 'type': hexval(value), 'entries': []}
                structs.append(cur)
                entry = None
            elif entry is not None:
                entry[name] = value
            else:
                cur[name] = hexval(value) if name != 'Flags' else hexval(value)
    return header, structs, bytes(raw), early


def raw_field(e, name, raw, off):
    """A field iasl did not print (it stops at the table's end): from the dump in the same file."""
    if name in e:
        return hexval(e[name])
    if e['offset'] + off >= len(raw):
        raise Mismatch('%s of entry at 0x%x neither decoded nor in the raw dump' % (name, e['offset']))
    return raw[e['offset'] + off]


def uid_expected(e, raw):
    fmt = raw_field(e, 'UID Format', raw, 20)
    n = raw_field(e, 'UID Length', raw, 21)
    if fmt == 0 or n == 0:
        return ''
    if 'UID' in e:
        v = e['UID']
        if v.startswith('"'):
            return v[1:v.rindex('"')]
        return str(int(v.split()[0], 16))
    # iasl stopped before the UID: read it from the dump in the same file.
    start = e['offset'] + 22
    data = raw[start:start + n]
    if len(data) != n:
        raise Mismatch('UID of entry at 0x%x not in the raw dump' % e['offset'])
    if fmt == 1:
        return str(int.from_bytes(data, 'little'))
    return data.split(b'\0')[0].decode('latin-1')


def expect(what, got, want):
    if got != want:
        raise Mismatch('%s: moat-acpi %r, iasl %r' % (what, got, want))


def compare_entry(where, j, e, raw):
    t = e['type']
    expect(where + ' type', j.get('type'), t)
    expect(where + ' device_id', j.get('device_id'), hexval(e['Device ID']))
    expect(where + ' setting', j.get('setting'), hexval(e['Data Setting']))
    keys = {'type', 'device_id', 'setting'}
    if t in (66, 67):
        expect(where + ' alias_id', j.get('alias_id'), hexval(e['Source Used Device ID']))
        keys.add('alias_id')
    elif t in (70, 71):
        expect(where + ' ext_setting', j.get('ext_setting'), hexval(e['Extended Data']))
        keys.add('ext_setting')
    elif t == 72:
        expect(where + ' handle', j.get('handle'), hexval(e['Handle']))
        expect(where + ' source_id', j.get('source_id'), hexval(e['Source Used Device ID']))
        expect(where + ' variety', j.get('variety'), hexval(e['Variety']))
        keys |= {'handle', 'source_id', 'variety'}
    elif t == 0xF0:
        expect(where + ' hid', j.get('hid'), acpi_id(e['ACPI HID']))
        expect(where + ' cid', j.get('cid'), acpi_id(e['ACPI CID']))
        expect(where + ' uid', j.get('uid'), uid_expected(e, raw))
        e['uid_length'] = raw_field(e, 'UID Length', raw, 21)
        keys |= {'hid', 'cid', 'uid'}
    expect(where + ' keys', set(j), keys)


def compare_struct(i, j, s, raw):
    where = 'structure %d at 0x%x' % (i, s['offset'])
    t = s['type']
    if s.get('unknown'):
        if t in IVHD_TYPES or t in IVMD_TYPES:
            raise Mismatch(where + ': iasl could not decode type 0x%x (use the newer disassembly)' % t)
        length = s.get('Length')
        if length is None:
            length = int.from_bytes(raw[s['offset'] + 2:s['offset'] + 4], 'little')
            s['Length'] = length
        expect(where, j, {'type': 'unknown', 'type_code': t, 'length': length})
        return
    if t in IVHD_TYPES:
        expect(where + ' type', j.get('type'), 'IVHD')
        expect(where + ' ivhd_type', j.get('ivhd_type'), t)
        expect(where + ' flags', j.get('flags'), s['Flags'])
        expect(where + ' device_id', j.get('device_id'), s['DeviceId'])
        expect(where + ' capability_offset', j.get('capability_offset'), s['Capability Offset'])
        expect(where + ' base_address', j.get('base_address'), s['Base Address'])
        expect(where + ' segment', j.get('segment'), s['PCI Segment Group'])
        expect(where + ' info', j.get('info'), s['Virtualization Info'])
        keys = {'type', 'ivhd_type', 'flags', 'device_id', 'capability_offset', 'base_address', 'segment',
                'info', 'entries'}
        if t == 0x10:
            expect(where + ' feature_reporting', j.get('feature_reporting'), s['Feature Reporting'])
            keys.add('feature_reporting')
        else:
            expect(where + ' attributes', j.get('attributes'), s['Attributes'])
            expect(where + ' efr', j.get('efr'), s['EFR Image'])
            keys |= {'attributes', 'efr'}
        expect(where + ' keys', set(j), keys)
        je, de = j['entries'], s['entries']
        expect(where + ' number of device entries', len(je), len(de))
        for k, (a, b) in enumerate(zip(je, de)):
            compare_entry('%s entry %d at 0x%x' % (where, k, b['offset']), a, b, raw)
        used = IVHD_TYPES[t] + sum(entry_length(e) for e in de)
        expect(where + ' length (header + entries)', used, s['Length'])
        pos = s['offset'] + IVHD_TYPES[t]
        for e in de:
            expect(where + ' entry offset', e['offset'], pos)
            pos += entry_length(e)
        return
    if t in IVMD_TYPES:
        expect(where + ' length field', s['Length'], 32)
        expect(where, j, {'type': 'IVMD', 'ivmd_type': t, 'flags': s['Flags'], 'device_id': s['DeviceId'],
                          'aux_data': s['Auxiliary Data'], 'start': s['Start Address'],
                          'length': s['Memory Length']})
        return
    raise Mismatch(where + ': iasl decoded type 0x%x that this test does not know' % t)


def check_table(tool, dat, dsl):
    with open(dat, 'rb') as f:
        data = f.read()
    header, structs, raw, early = parse_dsl(dsl)
    if raw and raw != data:
        raise Mismatch('the raw dump in %s differs from %s' % (os.path.basename(dsl), os.path.basename(dat)))
    p = subprocess.run([tool, '--json', dat], capture_output=True, text=True)
    if p.returncode != 0:
        raise Mismatch('--json exit status %d: %s' % (p.returncode, p.stderr.strip()))
    doc = json.loads(p.stdout)
    expect('number of tables', len(doc['tables']), 1)
    t = doc['tables'][0]
    expect('signature', t['signature'], 'IVRS')
    expect('length', t['length'], hexval(header['Table Length']))
    expect('length of the file', t['length'], len(data))
    expect('revision', t['revision'], hexval(header['Revision']))
    expect('checksum_valid', t['checksum_valid'], sum(data) % 256 == 0)
    expect('iv_info', t['iv_info'], hexval(header['Virtualization Info']))
    expect('number of structures', len(t['structures']), len(structs))
    for i, (j, s) in enumerate(zip(t['structures'], structs)):
        compare_struct(i, j, s, raw)
    # The structures iasl listed must tile the table: nothing skipped, nothing invented.
    pos = 48
    for s in structs:
        expect('offset of structure', s['offset'], pos)
        pos += s['Length']
    expect('end of the last structure', pos, len(data))
    if early and not structs:
        raise Mismatch('iasl decoded nothing')

    p = subprocess.run([tool, dat], capture_output=True, text=True)
    if p.returncode != 0:
        raise Mismatch('text mode exit status %d: %s' % (p.returncode, p.stderr.strip()))
    for s in structs:
        if 'Base Address' in s and '0x%x' % s['Base Address'] not in p.stdout:
            raise Mismatch('text output does not name the IOMMU at 0x%x' % s['Base Address'])
    return len(structs), sum(len(s['entries']) for s in structs)


def check_malformed(tool, path, where):
    with open(path, 'rb') as f:
        data = f.read()
    for args in ([tool, path], [tool, '--json', path]):
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 1:
            print('FAIL %s: exit status %d, want 1' % (' '.join(args), p.returncode))
            return 1
        if where not in p.stderr or 'moat-acpi: ' + path not in p.stderr:
            print('FAIL %s: stderr %r does not name %s' % (' '.join(args), p.stderr, where))
            return 1
        if '--json' in args:
            t = json.loads(p.stdout)['tables'][0]
            if t['checksum_valid'] != (sum(data[:t['length']]) % 256 == 0):
                print('FAIL %s: checksum_valid %r is wrong' % (' '.join(args), t['checksum_valid']))
                return 1
    print('%s: exit 1, stderr names %s' % (os.path.basename(path), where))
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--malformed':
        return check_malformed(sys.argv[2], sys.argv[3], sys.argv[4])
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tool, corpus = sys.argv[1], os.path.join(sys.argv[2], 'ivrs')
    names = sorted(n[:-len('.ivrs.dat')] for n in os.listdir(corpus) if n.endswith('.ivrs.dat'))
    failures = 0
    nstructs = nentries = 0
    for name in names:
        dsl = os.path.join(corpus, name + '.ivrs.iasl-20260408.dsl')
        if not os.path.exists(dsl):
            dsl = os.path.join(corpus, name + '.ivrs.dsl')
        try:
            a, b = check_table(tool, os.path.join(corpus, name + '.ivrs.dat'), dsl)
            nstructs += a
            nentries += b
        except (Mismatch, KeyError, ValueError) as e:
            failures += 1
            print('FAIL %s: %s: %s' % (name, type(e).__name__, e))
    print('%d IVRS tables, %d structures, %d device entries compared with iasl; %d failed'
          % (len(names), nstructs, nentries, failures))
    if len(names) < 40:
        print('FAIL: expected the 40 IVRS tables of the corpus in %s' % corpus)
        return 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
