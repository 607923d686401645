"""Plain nn.Modules; methods in gonbench.methods decide how they are trained."""
from .conv import ACTIVATIONS, ConvDecoder, ConvEncoder, SeedLinear, TiedConvEncoder, make_activation

__all__ = ["ACTIVATIONS", "ConvDecoder", "ConvEncoder", "SeedLinear", "TiedConvEncoder", "make_activation"]
from .siren import Siren, SineLayer, coordinate_grid  # noqa: E402

__all__ += ["Siren", "SineLayer", "coordinate_grid"]
from .signal import MLP, MaskNet  # noqa: E402

__all__ += ["MLP", "MaskNet"]
from .classifier import DigitClassifier  # noqa: E402
from .ppgn import CodeCritic, Encoder, Generator, ImageCritic  # noqa: E402

__all__ += ["CodeCritic", "DigitClassifier", "Encoder", "Generator", "ImageCritic"]
from .draw import DrawNet, DrawPass  # noqa: E402

__all__ += ["DrawNet", "DrawPass"]

from .dcgan import DCGANDiscriminator, DCGANGenerator  # noqa: E402
from .dense import DenseAutoencoder  # noqa: E402

__all__ += ["DCGANDiscriminator", "DCGANGenerator", "DenseAutoencoder"]

from .deepsim import DeePSiMDiscriminator  # noqa: E402
from .superres import EDSR, FSRCNN, SRDiscriminator  # noqa: E402
from .deep import ARCHS, DeepNet, SweepNorm  # noqa: E402
from .net2net import deeper, deeper_classifier, wider, wider_classifier  # noqa: E402

__all__ += ["DeePSiMDiscriminator", "EDSR", "FSRCNN", "SRDiscriminator", "ARCHS", "DeepNet", "SweepNorm", "deeper",
            "deeper_classifier", "wider", "wider_classifier"]
