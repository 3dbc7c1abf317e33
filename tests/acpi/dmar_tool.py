# SPDX-License-Identifier: BSD-2-Clause
"""moat-acpi on malformed DMARs: exit status 1, the problem and its offset on stderr.

usage: dmar_tool.py MOAT_ACPI CORPUS_DIR WORK_DIR

Writes the tables into WORK_DIR: an RMRR whose limit is below its base, a table with a bad checksum,
and a real table cut short. For each, text and JSON modes must exit 1 and stderr must say
"moat-acpi: FILE: DMAR+0xOFFSET: problem"; the JSON must still parse and show what decodes.
"""
import json
import os
import struct
import subprocess
import sys


def checksum_fixed(b):
    b = bytearray(b)
    b[9] = 0
    b[9] = (-sum(b)) & 0xff
    return bytes(b)


def dmar(structures, haw=38, flags=1):
    body = b''.join(structures)
    hdr = b'DMAR' + struct.pack('<IBB', 48 + len(body), 1, 0) + b'MOATTS' + b'TESTDMAR'
    hdr += struct.pack('<I', 1) + b'MOAT' + struct.pack('<I', 1) + bytes([haw, flags]) + bytes(10)
    return checksum_fixed(hdr + body)


def scope(kind, bus, dev, fn, enum_id=0):
    return struct.pack('<BBBBBBBB', kind, 8, 0, 0, enum_id, bus, dev, fn)


def drhd(flags, seg, base, scopes=b''):
    return struct.pack('<HHBBHQ', 0, 16 + len(scopes), flags, 0, seg, base) + scopes


def rmrr(seg, base, limit, scopes):
    return struct.pack('<HHHHQQ', 1, 24 + len(scopes), 0, seg, base, limit) + scopes


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    tool, corpus, work = argv[1:4]
    os.makedirs(work, exist_ok=True)

    good = dmar([drhd(1, 0, 0xfed90000, scope(3, 0xf0, 0x1f, 0, 2))])
    bad_rmrr = dmar([drhd(1, 0, 0xfed90000),
                     rmrr(0, 0x2000, 0x1000, scope(1, 0, 0x14, 0))])
    bad_sum = bytearray(good)
    bad_sum[9] ^= 0x55
    with open(os.path.join(corpus, 'dmar', 'acer-aspire-e5-571.dmar.dat'), 'rb') as f:
        real = f.read()

    cases = [
        # name, bytes, expected stderr text, JSON check
        ('dmar_good.dat', good, None, lambda t: t['checksum_valid'] and len(t['structures']) == 1),
        ('dmar_rmrr_limit_below_base.dat', bad_rmrr, 'DMAR+0x50: RMRR limit 0x1000 below base 0x2000',
         lambda t: t['checksum_valid'] and [s['type'] for s in t['structures']] == ['DRHD', 'RMRR']),
        ('dmar_bad_checksum.dat', bytes(bad_sum), 'DMAR+0x9: checksum',
         lambda t: t['checksum_valid'] is False and len(t['structures']) == 1),
        ('dmar_cut_short.dat', real[:0x80], 'DMAR+0x4: table length 204 runs past the 128 bytes',
         lambda t: t['checksum_valid'] is False and t['length'] == 204 and len(t['structures']) == 2),
    ]
    failures = 0
    for name, data, want, json_ok in cases:
        path = os.path.join(work, name)
        with open(path, 'wb') as f:
            f.write(data)
        want_rc = 0 if want is None else 1
        for mode in ([], ['--json'], ['--check']):
            rc, out, err = run([tool] + mode + [path])
            problem = None
            if rc != want_rc:
                problem = 'exit %d, expected %d' % (rc, want_rc)
            elif want is not None and ('moat-acpi: %s: %s' % (path, want)) not in err:
                problem = 'stderr %r does not say %r' % (err.strip(), want)
            elif want is None and err:
                problem = 'unexpected stderr %r' % err.strip()
            elif mode == ['--json']:
                try:
                    tables = json.loads(out)['tables']
                    if len(tables) != 1 or not json_ok(tables[0]):
                        problem = 'JSON output not as expected: %s' % out.strip()
                except ValueError as e:
                    problem = 'JSON output does not parse (%s): %s' % (e, out.strip())
            elif mode == ['--check'] and out:
                problem = '--check printed %r' % out
            elif not mode and '0xfed90000' not in out and name != 'dmar_cut_short.dat':
                problem = 'text output does not name the unit'
            if problem:
                failures += 1
                print('FAIL %s %s: %s' % (name, ' '.join(mode) or '(text)', problem))
    print('%d tool cases, %d failures' % (len(cases) * 3, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
