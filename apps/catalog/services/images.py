"""Product images: uploads are checked with Pillow before anything is stored."""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from PIL import Image, UnidentifiedImageError

from ..cache import catalog_cache_bump
from ..exceptions import InvalidImage
from ..models import Product, ProductImage

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def _validate(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > settings.CATALOG_IMAGE_MAX_BYTES:
        raise InvalidImage(
            details={"image": [f"The image is larger than {settings.CATALOG_IMAGE_MAX_BYTES} bytes."]}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            fmt = img.format
            img.verify()  # reads the whole file: truncated or corrupt data raises here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidImage(details={"image": ["Upload a valid image (JPEG, PNG, WebP or GIF)."]})
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise InvalidImage(details={"image": [f"Unsupported image format {fmt}."]})


@transaction.atomic
def product_image_add(
    *, product: Product, image: UploadedFile, alt: str = "", position: int | None = None
) -> ProductImage:
    """Attach a validated image to a product (appended after the others unless a position is given)."""
    _validate(image)
    if position is None:
        last = product.images.aggregate(m=Max("position"))["m"]
        position = 0 if last is None else last + 1
    catalog_cache_bump()
    return ProductImage.objects.create(product=product, image=image, alt=alt[:200], position=position)


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    """Remove an image row and, after commit, its file."""
    name, storage = image.image.name, image.image.storage
    image.delete()
    catalog_cache_bump()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
