"""What README.md tells a new user works when copied: its commands, its list of needs."""

import re
import subprocess

from .conftest import TEMPLATE

README = (TEMPLATE / "README.md").read_text()
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)


def test_template_addresses_are_explained_placeholders() -> None:
    """`gh:org/...` looked like an address and failed when copied; `<owner>` is said plainly."""
    addresses = re.findall(r"(?:cookiecutter|cruft create)(?: --\S+)* (\S+)", "".join(SHELL_BLOCKS))
    assert addresses
    for address in addresses:
        assert address == "." or "<owner>" in address, address
    assert "Put in place of `<owner>`" in README


def test_every_tool_that_ci_installs_is_among_the_needs() -> None:
    ci = (TEMPLATE / ".ci" / "run").read_text()
    installed = re.findall(r"missing\+=\((\S+)\)", ci)
    assert "wrk" in installed
    needs = next(part for part in README.split("\n\n") if "the suite also needs" in part)
    for package in installed:
        assert f"`{package}`" in needs, f"README's needs do not name {package}"


def test_the_first_bake_is_ignored_by_git() -> None:
    folder = re.search(r"&& cd (\w+) &&", SHELL_BLOCKS[0])
    assert folder
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", f"{folder[1]}/"], cwd=TEMPLATE, check=False
    )
    assert ignored.returncode == 0, f"{folder[1]}/ is not in .gitignore"
