"""SyncBatchNorm: batch normalisation whose statistics span the batches of every rank."""
from ... import _C
from ...autograd import no_grad
from .layers import _NormBase

__all__ = ["SyncBatchNorm"]


def _dist():
    from ... import distributed
    return distributed


class SyncBatchNorm(_NormBase):
    """BatchNorm over (N, C, *) whose mean and variance, in training, are those of the batches of
    all ranks of `process_group` together, as if one process saw the whole global batch.

    Each rank computes its per-channel count, mean and sum of squared deviations; one
    differentiable all_gather shares them, and they are combined exactly (Chan et al.'s parallel
    variance, stable where E[x^2] - E[x]^2 is not). Autograd differentiates through the
    all_gather (its backward is a reduce_scatter), so the input gradients are those of the
    global batch. Outside training, or without a process group of more than one rank, it is
    plain BatchNorm.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"[SyncBatchNorm] expected at least 2D input (got {input.dim()}D input of shape "
                             f"{tuple(input.shape)})")

    def forward(self, input):
        dist = _dist()
        if not (self.training and dist.is_initialized() and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"[SyncBatchNorm] expected {self.num_features} channels in dim 1, got input of shape "
                             f"{tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())

        c = input.shape[1]
        dims = [0] + list(range(2, input.dim()))
        bshape = [1, c] + [1] * (input.dim() - 2)
        count = input.numel() // c if c else 0
        local_mean = input.mean(dims) if count else _C.zeros([c], input.dtype)
        local_m2 = ((input - local_mean.view(bshape)) ** 2).sum(dims)
        row = _C.cat([local_mean, local_m2, _C.full([1], float(count), input.dtype)], 0)
        stats = _C.stack(list(dist.nn.all_gather(row, group=self.process_group)), 0)  # (world, 2C + 1)
        means, m2s, counts = stats[:, :c], stats[:, c:2 * c], stats[:, 2 * c:]
        total = float(counts.sum().item())
        if total <= 1:
            raise ValueError(f"[SyncBatchNorm] expected more than 1 value per channel over all ranks when training, "
                             f"got input of shape {tuple(input.shape)} and {int(total)} values in total")
        mean = (means * counts).sum(0) / total
        var = (m2s + counts * (means - mean) ** 2).sum(0) / total  # biased, used to normalise
        out = (input - mean.view(bshape)) * (var + self.eps).rsqrt().view(bshape)
        if self.weight is not None:
            out = out * self.weight.view(bshape)
        if self.bias is not None:
            out = out + self.bias.view(bshape)
        if self.track_running_stats and self.running_mean is not None:
            with no_grad():
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                self.running_var.mul_(1 - factor).add_(var.detach() * (factor * total / (total - 1)))
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Returns `module` with every BatchNorm*d replaced by a SyncBatchNorm sharing its
        parameters and buffers (a BatchNorm module itself is replaced and the new one returned)."""
        out = module
        if isinstance(module, _NormBase) and not isinstance(module, SyncBatchNorm) and \
                type(module).__name__.startswith("BatchNorm"):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.train(module.training)
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out

