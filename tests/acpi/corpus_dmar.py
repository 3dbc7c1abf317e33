# SPDX-License-Identifier: BSD-2-Clause
"""Check moat-acpi against ACPICA's disassembly of every DMAR of the corpus, field by field.

usage: corpus_dmar.py MOAT_ACPI CORPUS_DIR

For every CORPUS_DIR/dmar/*.dat: `moat-acpi --json FILE` must exit 0, and its structures, fields
and device scopes must agree with the `iasl -d` disassembly beside it (NAME.dmar.iasl-20260408.dsl
where it exists, since the older iasl cannot decode SATC, else NAME.dmar.dsl). Structures and scopes
are counted on both sides and their offsets recomputed from the JSON lengths, so a missing, extra or
misplaced item fails. Then `moat-acpi FILE...` (text, all tables in one run) must exit 0 and each
table's part of the output must name its DRHD register bases.
"""
import glob
import json
import os
import re
import subprocess
import sys

# [030h 0048   2]   Subtable Type : 0000 [Hardware Unit Definition]   (iasl 20200925)
# [030h 0048 002h]  Subtable Type : 0000 [Hardware Unit Definition]   (iasl 20260408)
FIELD = re.compile(r'^\[([0-9A-Fa-f]+)h ([0-9]+) +([0-9A-Fa-f]+)(h?)\] +(.+?) : (.*)$')


class Mismatch(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise Mismatch('%s: moat-acpi says %r, iasl says %r' % (what, got, want))


def hexval(text):
    return int(text.split()[0], 16)


def parse_dsl(path):
    """The disassembly as {'header': {...}, 'structures': [{'offset', 'fields', 'scopes'}]}."""
    header = {}
    structs = []
    cur = None
    scope = None
    with open(path, encoding='latin-1') as f:
        for line in f:
            if line.startswith('Raw Table Data'):
                break
            if line.startswith('****'):
                raise Mismatch('%s: iasl could not decode a subtable' % os.path.basename(path))
            m = FIELD.match(line.rstrip('\n'))
            if not m:
                continue
            off = int(m.group(1), 16)
            if int(m.group(2)) != off:
                raise Mismatch('%s: bad offset columns in %r' % (path, line))
            name, value = m.group(5).strip(), m.group(6).strip()
            if name == 'Subtable Type':
                cur = {'offset': off, 'type': hexval(value), 'fields': {}, 'rel': {}, 'scopes': []}
                structs.append(cur)
                scope = None
            elif name == 'Device Scope Type':
                if cur is None:
                    raise Mismatch('%s: scope outside a structure' % path)
                scope = {'offset': off, 'type': hexval(value), 'fields': {}, 'path': []}
                cur['scopes'].append(scope)
            elif cur is None:
                header[name] = value
            elif scope is not None:
                if name == 'PCI Path':
                    dev, fn = value.split(',')
                    scope['path'].append([int(dev, 16), int(fn, 16)])
                else:
                    scope['fields'][name] = value
            else:
                cur['fields'][name] = value
                cur['rel'][off - cur['offset']] = value
    return {'header': header, 'structures': structs}


def check_scopes(where, js_scopes, dsl_scopes, start):
    expect(where + ' scope count', len(js_scopes), len(dsl_scopes))
    off = start
    for i, (j, d) in enumerate(zip(js_scopes, dsl_scopes)):
        w = '%s scope %d' % (where, i)
        expect(w + ' offset', off, d['offset'])
        length = hexval(d['fields']['Entry Length'])
        expect(w + ' type', j['type'], d['type'])
        expect(w + ' enumeration_id', j['enumeration_id'], hexval(d['fields']['Enumeration ID']))
        expect(w + ' start_bus', j['start_bus'], hexval(d['fields']['PCI Bus Number']))
        expect(w + ' path', j['path'], d['path'])
        expect(w + ' length', 6 + 2 * len(j['path']), length)
        off += length
    return off


def check_table(dat, dsl, js):
    d = parse_dsl(dsl)
    h = d['header']
    expect('signature', js['signature'], 'DMAR')
    expect('length', js['length'], hexval(h['Table Length']))
    expect('length vs file', js['length'], os.path.getsize(dat))
    expect('revision', js['revision'], hexval(h['Revision']))
    expect('checksum_valid', js['checksum_valid'], True)
    expect('host_address_width', js['host_address_width'], hexval(h['Host Address Width']) + 1)
    expect('flags', js['flags'], hexval(h['Flags']))

    structs = js['structures']
    expect('structure count', len(structs), len(d['structures']))
    off = 48
    for i, (j, s) in enumerate(zip(structs, d['structures'])):
        f = s['fields']
        where = 'structure %d (%s at 0x%x)' % (i, j['type'], s['offset'])
        expect(where + ' offset', off, s['offset'])
        length = hexval(f['Length'])
        names = {0: 'DRHD', 1: 'RMRR', 2: 'ATSR', 3: 'RHSA', 4: 'ANDD', 5: 'SATC', 6: 'SIDP'}
        expect(where + ' type', j['type'], names.get(s['type'], 'unknown'))
        t = j['type']
        scopes_at = None
        if t == 'DRHD':
            expect(where + ' flags', j['flags'], hexval(f['Flags']))
            expect(where + ' size', j['size'], hexval(s['rel'][5]))  # "Reserved" before VT-d 4.x
            expect(where + ' segment', j['segment'], hexval(f['PCI Segment Number']))
            expect(where + ' register_base', j['register_base'], hexval(f['Register Base Address']))
            scopes_at = 16
        elif t == 'RMRR':
            expect(where + ' segment', j['segment'], hexval(f['PCI Segment Number']))
            expect(where + ' base', j['base'], hexval(f['Base Address']))
            expect(where + ' limit', j['limit'], hexval(f['End Address (limit)']))
            scopes_at = 24
        elif t in ('ATSR', 'SATC'):
            expect(where + ' flags', j['flags'], hexval(f['Flags']))
            expect(where + ' segment', j['segment'], hexval(f['PCI Segment Number']))
            scopes_at = 8
        elif t == 'SIDP':
            expect(where + ' segment', j['segment'], hexval(f['PCI Segment Number']))
            scopes_at = 8
        elif t == 'RHSA':
            expect(where + ' register_base', j['register_base'], hexval(f['Base Address']))
            expect(where + ' proximity_domain', j['proximity_domain'], hexval(f['Proximity Domain']))
        elif t == 'ANDD':
            expect(where + ' device_number', j['device_number'], hexval(f['Device Number']))
            name = f['Device Name']
            if not (name.startswith('"') and name.endswith('"')):
                raise Mismatch(where + ': unexpected Device Name %r' % name)
            expect(where + ' object_name', j['object_name'], name[1:-1])
        else:
            expect(where + ' type_code', j['type_code'], s['type'])
            expect(where + ' length', j['length'], length)
        if scopes_at is not None:
            end = check_scopes(where, j['scopes'], s['scopes'], s['offset'] + scopes_at)
            expect(where + ' scopes end', end, s['offset'] + length)
        elif s['scopes']:
            raise Mismatch(where + ': iasl shows scopes moat-acpi has no place for')
        off += length
    expect('end of structures', off, js['length'])
    return len(structs), sum(len(s['scopes']) for s in d['structures'])


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    tool, corpus = argv[1], argv[2]
    dats = sorted(glob.glob(os.path.join(corpus, 'dmar', '*.dat')))
    if len(dats) != 70:
        print('expected 70 DMAR tables in %s, found %d' % (corpus, len(dats)))
        return 1
    failures = 0
    nstructs = nscopes = 0
    bases = {}
    for dat in dats:
        base = dat[:-len('.dat')]
        dsl = base + '.iasl-20260408.dsl'
        if not os.path.exists(dsl):
            dsl = base + '.dsl'
        name = os.path.basename(dat)
        try:
            rc, out, err = run([tool, '--json', dat])
            if rc != 0:
                raise Mismatch('moat-acpi --json exit %d: %s' % (rc, err.strip()))
            doc = json.loads(out)
            if len(doc.get('tables', [])) != 1:
                raise Mismatch('expected one table in the JSON output')
            js = doc['tables'][0]
            n, m = check_table(dat, dsl, js)
            nstructs += n
            nscopes += m
            bases[dat] = ['0x%x' % s['register_base'] for s in js['structures'] if s['type'] == 'DRHD']
        except (Mismatch, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            failures += 1
            print('FAIL %s (%s): %s' % (name, os.path.basename(dsl), e))
    # Text mode, all tables in one run (one process start instead of 70): exit 0, and each table's
    # part of the output names each of its DRHD register bases.
    rc, out, err = run([tool] + dats)
    if rc != 0:
        failures += 1
        print('FAIL moat-acpi (text) on all tables: exit %d: %s' % (rc, err.strip()))
    parts = {}
    for chunk in re.split(r'^(?=DMAR \(Intel VT-d DMA remapping\) from )', out, flags=re.M):
        m = re.match(r'DMAR \(Intel VT-d DMA remapping\) from (.*)', chunk)
        if m:
            parts[m.group(1)] = chunk
    for dat in dats:
        text = parts.get(dat)
        if text is None:
            failures += 1
            print('FAIL %s: no text output for it' % os.path.basename(dat))
            continue
        for b in bases.get(dat, []):
            if not re.search(r'\bregisters %s\b' % b, text):
                failures += 1
                print('FAIL %s: text output does not name register base %s' % (os.path.basename(dat), b))
    print('%d tables, %d structures, %d device scopes checked against iasl; %d failures'
          % (len(dats), nstructs, nscopes, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
