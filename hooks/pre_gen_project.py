"""Check the answers again before anything is laid out, for a bake that skipped the prompts.

The prompts themselves are checked as they are answered (`local_extensions.py`); a bake from a
replay file (`cookiecutter --replay`) skips them, and this hook is its check. A bad answer
prints one line and exits 1; cookiecutter then removes the half-made project directory.
The problems arrive as JSON (`tojson`), so quotes, backslashes or Jinja syntax in an answer
cannot break or inject code into this script.
"""

import json
import sys

PROBLEMS: list[str] = json.loads(r"""{{ cookiecutter | answer_problems | tojson }}""")

if __name__ == "__main__":
    for problem in PROBLEMS:
        print(f"Error: {problem}", file=sys.stderr)
    sys.exit(1 if PROBLEMS else 0)
