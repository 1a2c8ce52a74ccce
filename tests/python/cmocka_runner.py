"""Runs one unittest file and reports as a cmocka program does, so that
tests/run counts Python tests with the C ones: "[  PASSED  ] N test(s).",
"[  FAILED  ] ...", "[  SKIPPED ] ..." and a "SKIP name: reason" line per
skipped test."""

import importlib.util
import os
import sys
import unittest


def main(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    # A setUpClass that raised is an error but no test run.
    outside = sum(isinstance(t, unittest.suite._ErrorHolder)
                  for t, _ in result.errors + result.skipped)
    passed = result.testsRun - failed - skipped + outside
    print("[==========] %d test(s) run." % result.testsRun)
    print("[  PASSED  ] %d test(s)." % passed)
    for test, reason in result.skipped:
        print("SKIP %s: %s" % (test.id(), reason))
    if skipped:
        print("[  SKIPPED ] %d test(s)." % skipped)
    if failed:
        print("[  FAILED  ] %d test(s), listed below:" % failed)
        for test, _ in result.failures + result.errors:
            print("[  FAILED  ] %s" % test.id())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
