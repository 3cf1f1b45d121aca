"""The teacher response cache: diskcache holding JSON text only.

diskcache unpickles values stored in pickle mode; a shared or copied cache folder is not
trusted code, so this Disk refuses pickled values instead of loading them.
"""
import diskcache
from diskcache.core import MODE_PICKLE


class TextOnlyDisk(diskcache.Disk):
    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if not isinstance(value, str):
            raise TypeError("the teacher cache stores JSON text only")
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == MODE_PICKLE:
            raise ValueError("refusing a pickled value in the teacher cache")
        return super().fetch(mode, filename, value, read)


def open_cache(folder) -> diskcache.Cache:
    # eviction off: a paid answer is never dropped to make room
    return diskcache.Cache(str(folder), disk=TextOnlyDisk, eviction_policy="none")
