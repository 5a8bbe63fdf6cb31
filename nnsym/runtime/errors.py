"""The exception a generated module's train() raises when the loss diverges."""


class DivergenceError(ArithmeticError):
    """Training produced a loss that is NaN or infinite."""

    def __init__(self, message, epoch, last_finite_loss, params):
        super().__init__(message)
        self.epoch = epoch
        self.last_finite_loss = last_finite_loss
        self.params = params
