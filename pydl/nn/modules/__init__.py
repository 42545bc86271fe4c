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
# PyTorch's module paths (after every layer above: they re-export from this package)
from . import batchnorm, conv, flatten, instancenorm, linear, normalization, pixelshuffle, pooling, sparse, upsampling  # noqa: F401,E402,E501
