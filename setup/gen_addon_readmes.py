"""Build each addon's README.md from its readme/ fragments (OCA style).

Run after editing a fragment: ``.venv/bin/python setup/gen_addon_readmes.py``.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
)


def build(addon: Path) -> str:
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    parts = [
        f"# {manifest['name']}",
        "",
        f"`{addon.name}` {manifest['version']} · {manifest['license']} · "
        f"{manifest.get('development_status', '')} · depends on "
        + ", ".join(f"`{d}`" for d in manifest["depends"]),
        "",
        f"*{manifest['summary']}*",
        "",
        "<!-- generated from readme/*.md by setup/gen_addon_readmes.py -->",
    ]
    for fragment, title in SECTIONS:
        path = addon / "readme" / fragment
        text = path.read_text().strip() if path.exists() else ""
        if not text:
            continue
        parts.append("")
        if title:
            parts += [f"## {title}", ""]
        # fragments use level-2 headings: push them one level down under a title
        if title:
            text = "\n".join(
                "#" + line if line.startswith("#") else line
                for line in text.splitlines()
            )
        parts.append(text)
    return "\n".join(parts) + "\n"


def main():
    for manifest in sorted(ROOT.glob("*/__manifest__.py")):
        addon = manifest.parent
        (addon / "README.md").write_text(build(addon))
        print(f"wrote {addon.name}/README.md")


if __name__ == "__main__":
    main()
