"""The one plateau detector behind optim.lr_scheduler.ReduceLROnPlateau (PyTorch's rule) and
the Keras-style callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau: Keras's rule)."""


def is_better(current, best, mode, threshold=0.0, threshold_mode="abs"):
    """True when `current` improves on `best` by more than `threshold` (best None: always).

    Args:
        mode: 'min' or 'max'.
        threshold_mode: 'abs' (beyond best -/+ threshold) or 'rel' (beyond best * (1 -/+ threshold)).
    """
    if best is None:
        return True
    if mode == "min":
        return current < (best * (1.0 - threshold) if threshold_mode == "rel" else best - threshold)
    return current > (best * (1.0 + threshold) if threshold_mode == "rel" else best + threshold)


class PlateauState:
    """Mixin counting epochs without improvement; the owner has `mode`, `threshold`, `threshold_mode`,
    `patience`, `cooldown`, `best`, `num_bad_epochs` and `cooldown_counter` (PyTorch's names).

    `_plateau_step(current, rule)` updates them and returns True when it is time to act:
    rule 'torch' acts once the bad epochs exceed `patience` (epochs in cooldown never count);
    rule 'keras' acts once `patience` epochs in a row did not improve (counting from the last
    cooldown epoch). After acting, cooldown starts and the count restarts.
    """

    def _plateau_step(self, current, rule):
        improved = is_better(current, self.best, self.mode, self.threshold, self.threshold_mode)
        if rule == "keras":
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
                self.num_bad_epochs = 0
            if improved:
                self.best, self.num_bad_epochs = current, 0
                return False
            if self.cooldown_counter > 0:
                return False
            self.num_bad_epochs += 1
            fire = self.num_bad_epochs >= self.patience
        else:
            if improved:
                self.best, self.num_bad_epochs = current, 0
            else:
                self.num_bad_epochs += 1
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
                self.num_bad_epochs = 0
            fire = self.num_bad_epochs > self.patience
        if fire:
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return fire
