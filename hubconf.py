"""torch.hub entry points: ``torch.hub.load(REPO, "se_resnet20", source="local", pretrained=True)``.

Every model of the registry is an entry; ``pretrained=True`` loads the weights shipped in ``data/checkpoints``
(offline), ``pretrained=False`` builds the untrained architecture with any model options.
"""

dependencies = ["torch", "torchvision", "safetensors"]

from senet_lib.models import create_model, list_models  # noqa: E402
from senet_lib.shipped import pretrained as _pretrained  # noqa: E402


def _entry(name: str):
    def entry(pretrained: bool = False, **options):
        if pretrained:
            if options:
                raise ValueError(f"a pretrained {name} has its recipe's options; got {sorted(options)}")
            return _pretrained(name)
        return create_model(name, **options)

    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = (
        f"{name}: pretrained=True loads the shipped weights (offline); options go to create_model."
    )
    return entry


for _name in list_models():
    globals()[_name] = _entry(_name)
