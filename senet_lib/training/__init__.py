"""Training: the config, the loop (read it top to bottom), evaluation, torchrun plumbing, grids of runs, speed.

May import the core (``se``, ``models``, ``checkpoint``, ``runtime``, ``paths``, ``files``) and ``data``;
never ``analysis``, ``course`` or ``cli``.

    from senet_lib.training import TrainConfig, train
    summary = train(TrainConfig(model="se_resnet20", dataset="cifar10-jpeg", epochs=30))
"""

from senet_lib.training.config import TrainConfig, load_config_file, load_run_config
from senet_lib.training.evaluate import evaluate, evaluate_checkpoint
from senet_lib.training.loop import train

__all__ = ["TrainConfig", "evaluate", "evaluate_checkpoint", "load_config_file", "load_run_config", "train"]
