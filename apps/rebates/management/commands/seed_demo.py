"""`manage.py seed_demo`: a realistic demo store (catalog, stock in two locations, suppliers,
purchase orders in every state, one rebate agreement).

Catalog rows and opening stock are bulk-inserted (a few statements for hundreds of rows); the
opening stock is written as `receive` movements with levels equal to their sum, so
`stock_reconcile` finds no drift. Purchase orders and the rebate agreement go through their
services, so receiving them moves stock through `stock_receive` like in production.

It lives in rebates, the last app of the accounts → catalog → inventory → purchasing → rebates
chain, so it can import every app it seeds without an earlier app importing a later one.
"""

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from apps.catalog.models import Brand, Category, Product, Variant
from apps.catalog.services import product_search_reindex
from apps.inventory.models import Location, StockLevel, StockMovement
from apps.inventory.services import default_location, location_create, reorder_alerts_sync
from apps.purchasing.models import Supplier, SupplierProduct
from apps.purchasing.services import (
    LineInput,
    ReceiveLine,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    supplier_create,
)
from apps.rebates.demo_data import BRANDS, CATALOG, LINES, SUPPLIERS
from apps.rebates.models import RebateAgreement
from apps.rebates.selectors import rebate_basis
from apps.rebates.services import TierInput, rebate_agreement_create, rebate_agreement_update

CENT = Decimal("0.01")
STORE_CODE = "STORE-MIRAFLORES"
SEED_REFERENCE = "seed:opening-stock"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Command(BaseCommand):
    help = "Load a demo supermarket: ~500 products, stock in two locations, suppliers, POs, a rebate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=500, help="How many products (default 500).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same store).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the catalog already has products."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("seed_demo: products exist, nothing to do.")
            return
        self.rng = random.Random(options["seed"])
        self.quiet = options["verbosity"] == 0
        steps = ["catalog", "locations", "stock", "suppliers", "purchase orders", "rebate agreement"]
        with tqdm(total=len(steps), desc="seed_demo", unit="step", disable=self.quiet) as bar:
            with transaction.atomic():
                bar.set_postfix_str("catalog")
                variants = self._catalog(options["products"])
                bar.update()
                bar.set_postfix_str("locations")
                locations = self._locations()
                bar.update()
                bar.set_postfix_str("stock")
                self._stock(variants, locations)
                bar.update()
                bar.set_postfix_str("suppliers")
                suppliers = self._suppliers(variants)
                bar.update()
            bar.set_postfix_str("purchase orders")
            orders = self._purchase_orders(suppliers, locations)
            bar.update()
            bar.set_postfix_str("rebate")
            agreement = self._rebate(suppliers)
            bar.update()
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_demo: {Product.objects.count()} products, {len(variants)} variants, "
                f"{Category.objects.count()} categories, {Brand.objects.count()} brands, "
                f"{len(locations)} locations, {len(suppliers)} suppliers, {len(orders)} purchase orders, "
                f"rebate agreement “{agreement.name}”."
            )
        )

    # --- catalog ----------------------------------------------------------------------------------

    def _catalog(self, how_many: int) -> list[Variant]:
        taken_slugs = set(Category.objects.values_list("slug", flat=True))

        def slug_for(name: str) -> str:
            base = slugify(name) or "category"
            slug, n = base, 2
            while slug in taken_slugs:
                slug, n = f"{base}-{n}", n + 1
            taken_slugs.add(slug)
            return slug

        # Aisles and sub-categories are reused by name, so running the seed again adds products only.
        tops = {c.name: c for c in Category.objects.filter(parent__isnull=True, name__in=list(CATALOG))}
        Category.objects.bulk_create(
            [Category(name=name, slug=slug_for(name)) for name in CATALOG if name not in tops]
        )
        tops = {c.name: c for c in Category.objects.filter(parent__isnull=True, name__in=list(CATALOG))}
        existing_leaves = set(
            Category.objects.filter(parent__in=list(tops.values())).values_list("parent_id", "name")
        )
        Category.objects.bulk_create(
            [
                Category(name=sub, slug=slug_for(f"{top}-{sub}"), parent=tops[top])
                for top, subs in CATALOG.items()
                for sub in subs
                if (tops[top].pk, sub) not in existing_leaves
            ]
        )
        leaf_by_key = {
            (c.parent_id, c.name): c for c in Category.objects.filter(parent__in=list(tops.values()))
        }

        brand_slugs = set(Brand.objects.values_list("slug", flat=True))
        Brand.objects.bulk_create(
            [Brand(name=name, slug=slugify(name)) for name in BRANDS if slugify(name) not in brand_slugs],
            ignore_conflicts=True,
        )
        brands = {b.name: b for b in Brand.objects.filter(name__in=list(BRANDS))}
        brands_of_top = {top: [brands[b] for b, tops_ in BRANDS.items() if top in tops_] for top in CATALOG}

        # Round-robin over (leaf, base) so every aisle gets products; brands and lines vary the name.
        bases = [
            (top, sub, base, sizes, Decimal(price))
            for top, subs in CATALOG.items()
            for sub, items in subs.items()
            for base, sizes, price in items
        ]
        product_slugs = set(Product.objects.values_list("slug", flat=True))
        sku_prefix = f"D{self.rng.randrange(100, 999)}"
        while Variant.objects.filter(sku__startswith=f"{sku_prefix}-").exists():  # a second run
            sku_prefix = f"D{self.rng.randrange(100, 999)}"
        products: list[Product] = []
        specs: list[tuple[list[str], Decimal]] = []
        used_names: set[str] = set()
        for i in tqdm(range(how_many), desc="products", unit="product", leave=False, disable=self.quiet):
            top, sub, base, sizes, price = bases[i % len(bases)]
            brand = self.rng.choice(brands_of_top[top])
            name = f"{base} {brand.name}"
            for line in self.rng.sample(LINES, len(LINES)):
                candidate = f"{name} {line}".strip()
                if candidate not in used_names:
                    name = candidate
                    break
            else:
                name = f"{name} #{i}"
            used_names.add(name)
            slug, n = slugify(name)[:200], 2
            while slug in product_slugs:
                slug, n = f"{slugify(name)[:200]}-{n}", n + 1
            product_slugs.add(slug)
            leaf = leaf_by_key[(tops[top].pk, sub)]
            products.append(
                Product(
                    name=name,
                    slug=slug,
                    description=f"{base} {brand.name}. Categoría {top} › {sub}.",
                    category=leaf,
                    brand=brand,
                )
            )
            count = self.rng.randint(1, min(3, len(sizes)))
            factor = Decimal(self.rng.randint(85, 125)) / 100
            specs.append((sizes[:count], _money(price * factor)))
        Product.objects.bulk_create(products, batch_size=500)
        products = list(Product.objects.filter(slug__in=[p.slug for p in products]).order_by("pk"))
        by_slug = {p.slug: p for p in products}

        variants: list[Variant] = []
        for (product, (sizes, price)), index in zip(
            zip([by_slug[p.slug] for p in products], specs, strict=True), range(len(products)), strict=True
        ):
            for k, size in enumerate(sizes):
                # Bigger packs cost more, a bit less per unit.
                variant_price = _money(price * Decimal(1 + 1.8 * k))
                cost = _money(variant_price * Decimal(self.rng.randint(58, 78)) / 100)
                variants.append(
                    Variant(
                        product=product,
                        sku=f"{sku_prefix}-{index:05d}-{k + 1}",
                        name=size,
                        price=variant_price,
                        cost=cost,
                        barcode=f"775{self.rng.randrange(10**9, 10**10)}",
                        attributes={"size": size},
                    )
                )
        Variant.objects.bulk_create(variants, batch_size=1000)
        product_search_reindex(product_ids=[p.pk for p in products])
        return list(Variant.objects.filter(product__in=products).order_by("pk"))

    # --- locations and opening stock -------------------------------------------------------------

    def _locations(self) -> list[Location]:
        main = default_location()
        store = Location.objects.filter(code=STORE_CODE).first() or location_create(
            code=STORE_CODE,
            name="Tienda Miraflores",
            kind=Location.Kind.STORE,
            address="Av. José Larco 1150, Miraflores, Lima",
            is_sellable=True,
        )
        return [main, store]

    def _stock(self, variants: list[Variant], locations: list[Location]) -> None:
        """Opening stock: levels plus one `receive` movement each, so the ledger sums to the level."""
        main, store = locations
        existing = set(
            StockLevel.objects.filter(variant__in=variants).values_list("variant_id", "location_id")
        )
        levels: list[StockLevel] = []
        for variant in variants:
            for location, scale in ((main, 1.0), (store, 0.3)):
                if (variant.pk, location.pk) in existing:
                    continue
                reorder_point = max(2, int(self.rng.randint(8, 30) * scale))
                reorder_qty = max(6, int(self.rng.choice([12, 24, 36, 48, 60, 96]) * scale))
                # About one level in twelve starts at or below its reorder point (open alerts).
                low = self.rng.random() < 1 / 12
                on_hand = (
                    self.rng.randint(0, reorder_point)
                    if low
                    else self.rng.randint(reorder_point + 1, reorder_point * 6 + 20)
                )
                levels.append(
                    StockLevel(
                        variant=variant,
                        location=location,
                        on_hand=on_hand,
                        reorder_point=reorder_point,
                        reorder_qty=reorder_qty,
                    )
                )
        StockLevel.objects.bulk_create(levels, batch_size=1000)
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    variant_id=level.variant_id,
                    location_id=level.location_id,
                    kind=StockMovement.Kind.RECEIVE,
                    quantity=level.on_hand,
                    on_hand_delta=level.on_hand,
                    reserved_delta=0,
                    on_hand_after=level.on_hand,
                    reserved_after=0,
                    reason="Opening stock (demo data)",
                    reference=SEED_REFERENCE,
                )
                for level in levels
                if level.on_hand > 0
            ],
            batch_size=1000,
        )
        saved = StockLevel.objects.filter(
            variant__in=variants, location__in=locations, on_hand__lte=F("reorder_point")
        )
        reorder_alerts_sync(levels=list(saved))

    # --- suppliers -------------------------------------------------------------------------------

    def _suppliers(self, variants: list[Variant]) -> list[Supplier]:
        suppliers: list[Supplier] = []
        for name, tax_id, _, lead in SUPPLIERS:
            supplier = Supplier.objects.filter(name=name).first() or supplier_create(
                name=name,
                tax_id=tax_id,
                email=f"ventas@{slugify(name.split()[0])}.pe",
                phone=f"+51 1 {self.rng.randint(200, 799)} {self.rng.randint(1000, 9999)}",
                lead_time_days=lead,
            )
            suppliers.append(supplier)
        tops = {
            v.pk: v.product.category.parent.name if v.product.category.parent else v.product.category.name
            for v in Variant.objects.filter(pk__in=[v.pk for v in variants]).select_related(
                "product__category__parent"
            )
        }
        already = set(
            SupplierProduct.objects.filter(variant__in=variants).values_list("supplier_id", "variant_id")
        )
        preferred_taken = set(
            SupplierProduct.objects.filter(variant__in=variants, is_preferred=True).values_list(
                "variant_id", flat=True
            )
        )
        rows: list[SupplierProduct] = []
        for variant in variants:
            sellers = [
                s for s, (_, _, cats, _) in zip(suppliers, SUPPLIERS, strict=True) if tops[variant.pk] in cats
            ]
            if not sellers:
                continue
            # A few variants have no preferred supplier: the suggestion report shows them.
            preferred = None if self.rng.random() < 0.03 else sellers[0]
            for supplier in sellers:
                if (supplier.pk, variant.pk) in already:
                    continue
                markup = Decimal(self.rng.randint(97, 106)) / 100
                rows.append(
                    SupplierProduct(
                        supplier=supplier,
                        variant=variant,
                        supplier_sku=f"{supplier.tax_id[-4:]}-{variant.pk:06d}",
                        unit_cost=_money((variant.cost or variant.price) * markup),
                        min_order_qty=self.rng.choice([1, 6, 12, 12, 24]),
                        is_preferred=supplier is preferred and variant.pk not in preferred_taken,
                    )
                )
        SupplierProduct.objects.bulk_create(rows, batch_size=1000)
        return suppliers

    # --- purchase orders through the services ----------------------------------------------------

    def _purchase_orders(self, suppliers: list[Supplier], locations: list[Location]) -> list:
        main, store = locations
        orders = []

        def order_for(supplier: Supplier, location: Location, n_lines: int, note: str):
            offers = list(SupplierProduct.objects.filter(supplier=supplier).order_by("pk")[: n_lines * 4])
            picked = self.rng.sample(offers, min(n_lines, len(offers)))
            if not picked:
                return None
            order = purchase_order_create(
                supplier=supplier,
                location=location,
                notes=note,
                lines=[
                    LineInput(
                        variant_id=o.variant_id,
                        quantity=max(o.min_order_qty, self.rng.choice([24, 36, 48, 60, 120])),
                        unit_cost=o.unit_cost,
                    )
                    for o in picked
                ],
            )
            orders.append(order)
            return order

        # Suppliers with the most offers play the roles, so a small catalog still shows every state.
        ranked = sorted(
            (s for s in suppliers if s.products.exists()), key=lambda s: (-s.products.count(), s.pk)
        )
        if not ranked:
            return orders

        def role(index: int) -> Supplier:
            return ranked[index % len(ranked)]

        for note in ("Reposición mensual", "Pedido de campaña"):
            order = order_for(role(0), main, 8, note)
            if order:
                purchase_order_place(order=order)
                purchase_order_receive(order=order)
        order = order_for(role(1), main, 6, "Entrega parcial: faltó un camión")
        if order:
            purchase_order_place(order=order)
            first = order.lines.order_by("pk").first()
            purchase_order_receive(order=order, lines=[ReceiveLine(first.pk, max(1, first.quantity // 2))])
        order = order_for(role(2), store, 5, "Pedido para tienda")
        if order:
            purchase_order_place(order=order)
        order_for(role(3), main, 4, "Borrador: confirmar precios")
        order = order_for(role(4), main, 3, "Proveedor sin stock")
        if order:
            purchase_order_cancel(order=order, reason="El proveedor no tenía stock")
        self.rebate_supplier = ranked[0]
        return orders

    def _rebate(self, suppliers: list[Supplier]) -> RebateAgreement:
        # The supplier whose orders were received, so the statement has a basis.
        supplier = getattr(self, "rebate_supplier", suppliers[0])
        today = timezone.now().date()
        start, end = today.replace(month=1, day=1), today.replace(month=12, day=31)
        existing = RebateAgreement.objects.filter(supplier=supplier, period_start=start).first()
        if existing:
            return existing
        agreement = rebate_agreement_create(
            supplier=supplier,
            name=f"Rappel por volumen {start.year}",
            period_start=start,
            period_end=end,
            mode=RebateAgreement.Mode.RETROACTIVE,
            tiers=[TierInput(Decimal("0"), Decimal("0"))],
        )
        # Tiers sized from what was received, so the statement shows a tier reached and a gap.
        basis = rebate_basis(agreement=agreement, start=start, end=end)
        step = max(Decimal("1000"), (basis / 1000).to_integral_value() * 1000)
        rebate_agreement_update(
            agreement=agreement,
            tiers=[
                TierInput(Decimal("0"), Decimal("0")),
                TierInput(_money(step / 2), Decimal("1.5")),
                TierInput(_money(step * 2), Decimal("3")),
                TierInput(_money(step * 5), Decimal("4.5")),
            ],
        )
        return agreement
