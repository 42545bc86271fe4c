"""nn.Module and the layers built on it."""
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import Module  # noqa: F401
from .rnn import *  # noqa: F401,F403
from .sync_batchnorm import SyncBatchNorm  # noqa: F401,E402
