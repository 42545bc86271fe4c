"""nn.Module and the layers built on it."""
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import Module  # noqa: F401
from .rnn import *  # noqa: F401,F403
from .sync_batchnorm import SyncBatchNorm  # noqa: F401,E402
from .misc import *  # noqa: F401,F403
from .conv_pool import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .resampling import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from . import batchnorm, conv, flatten, linear, normalization, pooling, sparse  # noqa: F401,E402  (PyTorch module paths)
