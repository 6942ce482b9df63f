"""Chronicle: the encrypted, tamper-evident incident diary service."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko (0.38, the newest) imports cryptography's DSA types to recognise DSA keys in
# certificates it is handed, and cryptography 51 deprecated DSA. Chronicle never signs or verifies
# with DSA. Ignored here, as narrowly as it can be named (this message and category, raised in
# pyHanko's modules), so neither a server start nor the suite (where warnings are errors) trips on
# it; every other warning still shows. Drop it once a pyHanko release stops importing DSA.
warnings.filterwarnings(
    "ignore",
    message="DSA is deprecated",
    category=CryptographyDeprecationWarning,
    module=r"pyhanko\.",
)
