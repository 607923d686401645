"""The three networks of Pixel Recurrent Neural Networks (van den Oord et al., ICML 2016): PixelCNN, Row LSTM and
Diagonal BiLSTM. Each maps an image x in [0, 1], [B, C, H, W], to the logits of a 256-way softmax for every
sub-pixel, [B, C, 256, H, W], and the logits of a sub-pixel depend only on the sub-pixels before it (rows top to
bottom, pixels left to right, R before G before B; layers/masked.py).

All three share the paper's frame (Sec. 3, Fig. 4-5): a 7x7 mask-A convolution from the image to 2h features,
residual layers of 2h features, and two ReLU + 1x1 mask-B convolutions to C x 256 logits. They differ only in the
residual layer:
- PixelCNN: 1x1 (2h -> h), 3x3 mask B (h -> h), 1x1 (h -> 2h), each after a ReLU; no pooling.
- Row LSTM: an LSTM run row by row, top to bottom. Input-to-state: a 1-D mask-B convolution of kernel 3 along
  the current row (a 1 x 3 kernel) computed for the whole map at once; state-to-state: a 1-D convolution of
  kernel 3 over the previous row's state. Its context is a triangle above the pixel.
- Diagonal BiLSTM: each row n (0-based) is shifted right by n (the paper's n - 1 for 1-based rows), so the
  diagonals become columns; an LSTM runs column by column with a kernel-2 convolution over the previous column's
  state (in image terms the left and the upper neighbour), input-to-state a 1x1 mask-B convolution. A second
  LSTM runs right to left (the same on the mirrored map); its output is shifted down one row before the two are
  added, so a pixel reads only the complete rows above from it, and the context is the whole past.
The LSTM layers project their h-channel state back to 2h with a 1x1 mask-B convolution and add it to their input.

Every layer also computes one row given a state carried from the row above (``row``): the sampler draws a row's
pixels by recomputing only that row, never the image (nets fed the whole image reach the same logits; the
tests check both against each other). The Diagonal LSTM's row form is its column recursion unskewed: a pixel's
state from its upper and left neighbours, the cell state carried from the left; the skewed map's padding holds
zero states, so both forms see zeros beyond the image.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..layers.masked import MaskedConv2d, colour_groups

LEVELS = 256  # 8-bit sub-pixel values


def lstm_update(gates: torch.Tensor, c: torch.Tensor, colours: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM update from pre-activations [B, 4h, ...] (laid out colour group, gate, unit so that a gate's unit
    sits in the colour group of the state unit it drives) and the cell state [B, h, ...] -> (h, c)."""
    b, h = c.shape[0], c.shape[1]
    rest = c.shape[2:]
    g = gates.view(b, colours, 4, h // colours, *rest)
    i, f, o = torch.sigmoid(g[:, :, 0]), torch.sigmoid(g[:, :, 1]), torch.sigmoid(g[:, :, 2])
    u = torch.tanh(g[:, :, 3])
    c = f * c.view(b, colours, h // colours, *rest) + i * u
    return (o * torch.tanh(c)).reshape(b, h, *rest), c.reshape(b, h, *rest)


class ResidualBlock(nn.Module):
    """PixelCNN's residual block (paper Fig. 5, left). Its row state is the 3x3 convolution's input on the row
    above (zeros above the image, the convolution's own padding)."""

    def __init__(self, hidden: int, colours: int) -> None:
        super().__init__()
        self.pre = nn.Sequential(nn.ReLU(), MaskedConv2d(2 * hidden, hidden, 1, "B", colours), nn.ReLU())
        self.mid = MaskedConv2d(hidden, hidden, 3, "B", colours)
        self.post = nn.Sequential(nn.ReLU(), MaskedConv2d(hidden, 2 * hidden, 1, "B", colours))
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.post(self.mid(self.pre(x)))

    def initial_state(self, x_row: torch.Tensor):
        return x_row.new_zeros(x_row.shape[0], self.hidden, x_row.shape[2])

    def row(self, x_row: torch.Tensor, above: torch.Tensor, advance: bool = True):
        inner = self.pre(x_row[:, :, None])
        mid = self.mid(torch.cat([above[:, :, None], inner], 2))[:, :, 1:]
        return x_row + self.post(mid)[:, :, 0], inner[:, :, 0]


class RowLSTM(nn.Module):
    """A Row LSTM layer with its residual connection (paper Sec. 3.1, Fig. 5, right). The paper computes the
    input-to-state convolution for the whole map at once; row by row it is the same convolution (it reads the
    current row only), so the whole-map pass is the row recursion."""

    def __init__(self, hidden: int, colours: int) -> None:
        super().__init__()
        self.hidden, self.colours = hidden, colours
        self.input_to_state = MaskedConv2d(2 * hidden, 4 * hidden, (1, 3), "B", colours)
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 3, padding=1)
        self.out = MaskedConv2d(hidden, 2 * hidden, 1, "B", colours)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self.initial_state(x[:, :, 0])
        rows = []
        for r in range(x.shape[2]):
            out, state = self.row(x[:, :, r], state)
            rows.append(out)
        return torch.stack(rows, 2)

    def initial_state(self, x_row: torch.Tensor):
        h = x_row.new_zeros(x_row.shape[0], self.hidden, x_row.shape[2])
        return h, torch.zeros_like(h)

    def row(self, x_row: torch.Tensor, state, advance: bool = True):
        h, c = state
        gates = self.input_to_state(x_row[:, :, None])[:, :, 0] + self.state_to_state(h)
        h, c = lstm_update(gates, c, self.colours)
        return x_row + self.out(h[:, :, None])[:, :, 0], (h, c)


def skew(x: torch.Tensor) -> torch.Tensor:
    """[B, K, H, W] -> [B, K, H, W + H - 1], row n shifted right by n (zeros elsewhere)."""
    height = x.shape[2]
    return torch.stack([F.pad(x[:, :, r], (r, height - 1 - r)) for r in range(height)], 2)


def unskew(x: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of :func:`skew`: [B, K, H, W + H - 1] -> [B, K, H, W]."""
    return torch.stack([x[:, :, r, r:r + width] for r in range(x.shape[2])], 2)


class DiagonalLSTM(nn.Module):
    """One direction of the Diagonal BiLSTM (paper Sec. 3.2): left to right over the skewed map."""

    def __init__(self, hidden: int, colours: int) -> None:
        super().__init__()
        self.hidden, self.colours = hidden, colours
        self.input_to_state = MaskedConv2d(2 * hidden, 4 * hidden, 1, "B", colours)
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 2)  # rows n - 1 and n of the previous column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, height, width = x.shape
        gates = skew(self.input_to_state(x))
        rows = torch.arange(height, device=x.device)
        h = x.new_zeros(b, self.hidden, height)
        c = torch.zeros_like(h)
        columns = []
        for j in range(gates.shape[3]):
            h, c = lstm_update(gates[:, :, :, j] + self.state_to_state(F.pad(h, (1, 0))), c, self.colours)
            inside = ((rows <= j) & (j - rows < width)).to(x.dtype)  # padding keeps zero states
            h, c = h * inside, c * inside
            columns.append(h)
        return unskew(torch.stack(columns, 3), width)

    def row(self, x_row: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """The states of one row [B, h, W], left to right, from the states of the row above."""
        gates = self.input_to_state(x_row[:, :, None])[:, :, 0]
        h = x_row.new_zeros(x_row.shape[0], self.hidden)
        c = torch.zeros_like(h)
        states = []
        for col in range(x_row.shape[2]):
            neighbours = torch.stack([above[:, :, col], h], 2)  # the kernel's taps: upper, left
            h, c = lstm_update(gates[:, :, col] + self.state_to_state(neighbours)[:, :, 0], c, self.colours)
            states.append(h)
        return torch.stack(states, 2)


class DiagonalBiLSTM(nn.Module):
    """Both directions, the right-to-left one shifted down a row, summed, projected, added to the input. Its row
    state is both directions' states on the row above."""

    def __init__(self, hidden: int, colours: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.left, self.right = DiagonalLSTM(hidden, colours), DiagonalLSTM(hidden, colours)
        self.out = MaskedConv2d(hidden, 2 * hidden, 1, "B", colours)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.left(x)
        right = self.right(x.flip(3)).flip(3)
        right = F.pad(right, (0, 0, 1, 0))[:, :, :-1]  # row n gets row n - 1: no pixel of row n or later
        return x + self.out(left + right)

    def initial_state(self, x_row: torch.Tensor):
        h = x_row.new_zeros(x_row.shape[0], self.hidden, x_row.shape[2])
        return h, h

    def row(self, x_row: torch.Tensor, state, advance: bool = True):
        """``advance`` False: the row's output only (the right-to-left states of this row serve the next one)."""
        left_above, right_above = state
        left = self.left.row(x_row, left_above)
        out = x_row + self.out((left + right_above)[:, :, None])[:, :, 0]
        right = self.right.row(x_row.flip(2), right_above.flip(2)).flip(2) if advance else None
        return out, (left, right)


LAYERS = {"pixelcnn": ResidualBlock, "row_lstm": RowLSTM, "diagonal_bilstm": DiagonalBiLSTM}
INPUT_KERNEL = 7  # the first layer's mask-A kernel (paper Sec. 3.4)


class PixelNet(nn.Module):
    """7x7 mask-A convolution, ``layers`` residual layers of one kind, two ReLU + 1x1 mask-B output convolutions."""

    def __init__(self, kind: str, colours: int, hidden: int, layers: int, output_hidden: int) -> None:
        super().__init__()
        colour_groups(hidden, colours)  # every width splits into the colour groups
        colour_groups(output_hidden, colours)
        self.colours = colours
        self.input = MaskedConv2d(colours, 2 * hidden, INPUT_KERNEL, "A", colours)
        self.layers = nn.Sequential(*(LAYERS[kind](hidden, colours) for _ in range(layers)))
        self.output = nn.Sequential(nn.ReLU(), MaskedConv2d(2 * hidden, output_hidden, 1, "B", colours),
                                    nn.ReLU(), MaskedConv2d(output_hidden, colours * LEVELS, 1, "B", colours))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, height, width = x.shape
        logits = self.output(self.layers(self.input(2 * x - 1)))  # inputs centred on 0
        return logits.view(b, c, LEVELS, height, width)

    def initial_state(self, x_row: torch.Tensor):
        """The state before row 0 for rows like ``x_row`` [B, C, W]: the image rows above (zeros, centred) and
        each layer's state."""
        b, c, width = x_row.shape
        above = x_row.new_zeros(b, c, INPUT_KERNEL // 2, width)
        features = x_row.new_zeros(b, self.input.out_channels, width)
        return above, [layer.initial_state(features) for layer in self.layers]

    def row(self, x_row: torch.Tensor, state, column: int | None = None):
        """The logits of one row [B, C, 256, W] from the image's row x_row [B, C, W] in [0, 1] and the state of
        the rows above, and the state after it; with ``column``, the logits of that pixel only [B, C, 256, 1]
        and no new state (a sampler asks for each pixel, then advances once the row is drawn)."""
        above, states = state
        window = torch.cat([above, (2 * x_row - 1)[:, :, None]], 2)
        features = self.input(window)[:, :, -1]
        advance = column is None
        new_states = []
        for layer, layer_state in zip(self.layers, states):
            features, layer_state = layer.row(features, layer_state, advance)
            new_states.append(layer_state)
        if column is not None:
            features = features[:, :, column:column + 1]
        logits = self.output(features[:, :, None])[:, :, 0]
        logits = logits.view(x_row.shape[0], self.colours, LEVELS, -1)
        return logits, ((window[:, :, 1:], new_states) if advance else None)
