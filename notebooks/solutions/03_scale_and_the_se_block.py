# Worked solutions of notebook 03 (scale, the SE block, placements), put in place of the exercise cells by the runner.

# %% solution="scale"
from senet_lib.course.checks import check_scale


def my_scale(u, s):
    """Eq. 4: u (N, C, H, W), s (N, C) -> x (N, C, H, W) with x_c = s_c * u_c."""
    n, c = s.shape
    return u * s.view(n, c, 1, 1)  # (N, C, H, W) * (N, C, 1, 1): broadcast over H and W


check_scale(my_scale)

# %% solution="se_block"
from senet_lib.course.checks import check_se_block


class MySEBlock(SEBlock):
    def forward(self, u):
        """Squeeze (Eq. 2), excitation (Eq. 3), scale (Eq. 4): (N, C, H, W) -> (N, C, H, W)."""
        z = u.mean(dim=(2, 3))  # (N, C, H, W) -> (N, C)
        s = self.gate(self.fc2(torch.relu(self.fc1(z))))  # (N, C) -> (N, C/r) -> (N, C), through the hookable gate
        return u * s[:, :, None, None]  # (N, C, H, W) * (N, C, 1, 1)


check_se_block(MySEBlock)

# %% solution="placements"
from senet_lib.course.checks import check_placement


def forward_standard(unit, x):
    return torch.relu(unit.se(unit.residual(x)) + unit.shortcut(x))


def forward_pre(unit, x):
    return torch.relu(unit.residual(unit.se(x)) + unit.shortcut(x))


def forward_post(unit, x):
    return unit.se(torch.relu(unit.residual(x) + unit.shortcut(x)))


def forward_identity(unit, x):
    return torch.relu(unit.residual(x) + unit.shortcut(unit.se(x)))


for placement, fn in [("standard", forward_standard), ("pre", forward_pre), ("post", forward_post), ("identity", forward_identity)]:
    check_placement(fn, placement)
