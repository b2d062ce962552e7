"""Small helpers used by the setup/ shell scripts (stdlib only).

Usage: python3 setup/ds_helpers.py <command> [args]

Commands:
  deps <addon_dir>...     external dependencies of the addons, comma separated
  odoo-rc                 db_host/db_port/db_user/db_password from $ODOO_RC
  odoo-version <release.py>   the version_info major.minor of an Odoo tree
"""

import ast
import configparser
import os
import sys
from pathlib import Path


def _manifest(addon_dir):
    path = Path(addon_dir) / "__manifest__.py"
    return ast.literal_eval(path.read_text(encoding="utf-8"))


def cmd_deps(addon_dirs):
    own = {Path(a).name for a in addon_dirs}
    deps = set()
    for addon_dir in addon_dirs:
        deps.update(_manifest(addon_dir).get("depends", []))
    print(",".join(sorted(deps - own)))


def cmd_odoo_rc():
    rc = os.environ.get("ODOO_RC")
    if not rc or not os.path.isfile(rc):
        return
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(rc)
    if not parser.has_section("options"):
        return
    for key in ("db_host", "db_port", "db_user", "db_password"):
        value = parser.get("options", key, fallback="").strip()
        if value and value.lower() != "false":
            print(f"{key}={value}")


def cmd_odoo_version(release_py):
    tree = ast.parse(Path(release_py).read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "version_info"
        ):
            elts = node.value.elts
            print(f"{ast.literal_eval(elts[0])}.{ast.literal_eval(elts[1])}")
            return
    print("unknown")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    if command == "deps":
        cmd_deps(args)
    elif command == "odoo-rc":
        cmd_odoo_rc()
    elif command == "odoo-version":
        cmd_odoo_version(args[0])
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
