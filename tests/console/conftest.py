from tests.sharing.support import world

__all__ = ["world"]
