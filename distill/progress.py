"""Progress bars that stay quiet when nobody is watching (tests, CI logs)."""
import os
import sys

from tqdm import tqdm


def bar(total=None, desc="", unit="it"):
    disable = os.environ.get("DISTILL_PROGRESS", "auto") == "off"
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5, leave=True)


def say(message: str):
    print(message, file=sys.stderr, flush=True)
