"""Static tables for `manage.py seed_demo`: a Latin American supermarket (prices in soles, PEN)."""

# top category → sub-category → [(product base name, [variant sizes], base price of the first size)]
CATALOG: dict[str, dict[str, list[tuple[str, list[str], str]]]] = {
    "Bebidas": {
        "Aguas": [
            ("Agua mineral sin gas", ["625 ml", "2,5 L", "7 L"], "1.80"),
            ("Agua mineral con gas", ["625 ml", "2,5 L"], "2.00"),
            ("Agua saborizada", ["500 ml", "1,5 L"], "2.50"),
        ],
        "Gaseosas": [
            ("Gaseosa cola", ["500 ml", "1,5 L", "3 L"], "2.90"),
            ("Gaseosa lima limón", ["500 ml", "1,5 L", "3 L"], "2.70"),
            ("Agua tónica", ["500 ml", "1,5 L"], "3.20"),
        ],
        "Jugos y néctares": [
            ("Néctar de durazno", ["1 L", "1,5 L"], "4.50"),
            ("Jugo de naranja", ["1 L"], "6.90"),
            ("Bebida de maracuyá", ["500 ml", "1 L"], "3.50"),
        ],
        "Cervezas": [
            ("Cerveza rubia", ["355 ml", "650 ml", "Pack 6 × 355 ml"], "3.60"),
            ("Cerveza negra", ["355 ml", "650 ml"], "4.20"),
        ],
        "Vinos": [
            ("Vino tinto Malbec", ["750 ml"], "29.90"),
            ("Vino blanco Sauvignon", ["750 ml"], "27.50"),
            ("Vino rosado", ["750 ml"], "24.90"),
        ],
    },
    "Lácteos": {
        "Leches": [
            ("Leche entera", ["400 g lata", "1 L", "Pack 6 × 1 L"], "3.90"),
            ("Leche descremada", ["1 L", "Pack 6 × 1 L"], "4.20"),
            ("Leche sin lactosa", ["1 L"], "5.40"),
        ],
        "Yogures": [
            ("Yogur bebible fresa", ["180 g", "1 kg"], "2.20"),
            ("Yogur griego natural", ["150 g", "500 g"], "3.80"),
        ],
        "Quesos": [
            ("Queso fresco", ["250 g", "500 g"], "8.90"),
            ("Queso edam", ["200 g", "Por kg"], "11.50"),
            ("Queso parmesano rallado", ["40 g", "150 g"], "5.90"),
        ],
        "Mantequillas y cremas": [
            ("Mantequilla con sal", ["100 g", "200 g"], "5.50"),
            ("Crema de leche", ["200 ml", "500 ml"], "6.20"),
        ],
    },
    "Almacén": {
        "Arroz y menestras": [
            ("Arroz extra", ["750 g", "5 kg"], "4.30"),
            ("Lentejas", ["500 g"], "5.20"),
            ("Frejol canario", ["500 g"], "6.50"),
        ],
        "Fideos y pastas": [
            ("Spaghetti", ["500 g", "1 kg"], "3.10"),
            ("Tallarín", ["500 g"], "3.20"),
            ("Fideo canuto", ["250 g", "500 g"], "2.40"),
        ],
        "Aceites y vinagres": [
            ("Aceite vegetal", ["900 ml", "1,8 L"], "9.90"),
            ("Aceite de oliva extra virgen", ["500 ml", "1 L"], "24.90"),
            ("Vinagre blanco", ["500 ml", "1 L"], "2.80"),
        ],
        "Harinas y azúcar": [
            ("Harina sin preparar", ["1 kg"], "4.60"),
            ("Azúcar rubia", ["1 kg", "5 kg"], "4.10"),
        ],
        "Conservas": [
            ("Atún en aceite", ["140 g", "Pack 3 × 140 g"], "5.90"),
            ("Durazno en almíbar", ["820 g"], "7.40"),
            ("Filete de caballa", ["170 g"], "4.30"),
        ],
        "Infusiones": [
            ("Té filtrante", ["25 sobres", "100 sobres"], "3.50"),
            ("Manzanilla", ["25 sobres"], "2.90"),
        ],
    },
    "Desayuno": {
        "Café": [
            ("Café instantáneo", ["50 g", "200 g"], "9.90"),
            ("Café molido", ["250 g", "500 g"], "14.90"),
        ],
        "Cereales": [
            ("Hojuelas de maíz", ["300 g", "700 g"], "8.50"),
            ("Avena en hojuelas", ["500 g", "1 kg"], "4.20"),
        ],
        "Galletas": [
            ("Galletas de soda", ["Paquete 6 un.", "Bolsa 1 kg"], "3.40"),
            ("Galletas rellenas de vainilla", ["Paquete 6 un."], "4.10"),
            ("Galletas integrales", ["Paquete 6 un."], "4.60"),
        ],
        "Mermeladas": [
            ("Mermelada de fresa", ["320 g", "1 kg"], "6.50"),
            ("Manjar blanco", ["250 g", "1 kg"], "5.80"),
        ],
    },
    "Limpieza": {
        "Detergentes": [
            ("Detergente en polvo", ["800 g", "2,6 kg", "4,5 kg"], "9.90"),
            ("Detergente líquido", ["1,8 L", "3 L"], "21.90"),
        ],
        "Lejías y desinfectantes": [
            ("Lejía tradicional", ["1 L", "4 L"], "3.20"),
            ("Desinfectante lavanda", ["900 ml", "1,8 L"], "6.90"),
        ],
        "Lavavajillas": [
            ("Lavavajillas en crema", ["500 g", "1 kg"], "5.40"),
            ("Lavavajillas líquido limón", ["500 ml", "1,2 L"], "6.80"),
        ],
        "Papeles": [
            ("Papel higiénico doble hoja", ["Pack 4", "Pack 12", "Pack 24"], "6.90"),
            ("Papel toalla", ["Pack 2", "Pack 3"], "5.90"),
            ("Servilletas", ["100 un.", "300 un."], "2.90"),
        ],
    },
    "Cuidado personal": {
        "Cabello": [
            ("Shampoo reparación", ["375 ml", "750 ml"], "13.90"),
            ("Acondicionador", ["375 ml"], "13.90"),
        ],
        "Jabones": [
            ("Jabón de tocador avena", ["90 g", "Pack 3 × 90 g"], "2.90"),
            ("Jabón líquido de manos", ["250 ml", "1 L"], "7.50"),
        ],
        "Desodorantes": [
            ("Desodorante en aerosol", ["150 ml"], "12.90"),
            ("Desodorante roll-on", ["50 ml"], "9.90"),
        ],
        "Cuidado bucal": [
            ("Pasta dental triple acción", ["75 ml", "Pack 3 × 75 ml"], "4.90"),
            ("Enjuague bucal", ["250 ml", "500 ml"], "11.90"),
        ],
    },
    "Snacks y dulces": {
        "Papas y piqueos": [
            ("Papas fritas clásicas", ["45 g", "150 g", "250 g"], "2.00"),
            ("Chifles", ["90 g"], "3.50"),
            ("Maní salado", ["100 g"], "3.20"),
        ],
        "Chocolates": [
            ("Chocolate de leche", ["30 g", "100 g"], "2.50"),
            ("Chocolate bitter 70 %", ["80 g"], "6.90"),
        ],
        "Caramelos": [
            ("Caramelos surtidos", ["Bolsa 100 un."], "5.50"),
            ("Chicles de menta", ["Caja 10 un."], "1.50"),
        ],
    },
    "Congelados": {
        "Carnes congeladas": [
            ("Hamburguesas de res", ["Caja 4 un.", "Caja 10 un."], "12.90"),
            ("Nuggets de pollo", ["400 g", "1 kg"], "13.50"),
        ],
        "Verduras congeladas": [
            ("Choclo desgranado", ["500 g"], "6.90"),
            ("Mix de verduras", ["500 g", "1 kg"], "7.50"),
        ],
        "Helados": [
            ("Helado de vainilla", ["1 L", "2 L"], "14.90"),
            ("Paletas de fruta", ["Caja 6 un."], "9.90"),
        ],
    },
    "Mascotas": {
        "Perros": [("Alimento para perros adultos", ["1 kg", "3 kg", "15 kg"], "9.50")],
        "Gatos": [("Alimento para gatos", ["1 kg", "3 kg"], "11.50"), ("Arena sanitaria", ["4 kg"], "14.90")],
    },
}

# brand → top categories it sells in
BRANDS: dict[str, list[str]] = {
    "Andina": ["Bebidas", "Almacén"],
    "Cielo Azul": ["Bebidas"],
    "Don Vittorio": ["Almacén", "Desayuno"],
    "Valle Verde": ["Lácteos", "Desayuno"],
    "La Granja": ["Lácteos", "Congelados"],
    "Costa Norte": ["Almacén", "Congelados"],
    "Sol del Sur": ["Bebidas", "Snacks y dulces"],
    "Inca Dorado": ["Bebidas", "Desayuno"],
    "Pampa Fresca": ["Lácteos"],
    "Brillex": ["Limpieza"],
    "Blancura": ["Limpieza"],
    "Suavel": ["Limpieza", "Cuidado personal"],
    "Natura Viva": ["Cuidado personal"],
    "Frescor": ["Cuidado personal"],
    "Crocante": ["Snacks y dulces", "Desayuno"],
    "Dulce Hogar": ["Snacks y dulces", "Desayuno"],
    "Polar": ["Congelados"],
    "Huellitas": ["Mascotas"],
    "Mar de Grau": ["Almacén"],
    "Tierra Buena": ["Almacén", "Desayuno", "Congelados"],
}

LINES = ["", "Clásico", "Premium", "Familiar", "Orgánico", "Tradicional", "Selección", "Extra", "Económico"]

# name, tax id (RUC), top categories it supplies, lead time (days)
SUPPLIERS: list[tuple[str, str, list[str], int]] = [
    ("Distribuidora Andina de Bebidas S.A.C.", "20512345671", ["Bebidas"], 3),
    ("Lácteos del Valle S.A.", "20498765432", ["Lácteos"], 2),
    ("Comercial Almacenes Unidos S.A.C.", "20123456789", ["Almacén", "Desayuno"], 5),
    ("Química Brillante S.R.L.", "20600123457", ["Limpieza"], 7),
    ("Cuidado y Belleza Perú S.A.", "20555111222", ["Cuidado personal"], 6),
    ("Snacks & Golosinas del Pacífico S.A.C.", "20444333221", ["Snacks y dulces"], 4),
    ("Frío Total Distribuciones S.A.C.", "20333222119", ["Congelados"], 3),
    ("Mascotas Felices E.I.R.L.", "20222111008", ["Mascotas"], 8),
    ("Mayorista Lima Centro S.A.", "20111000997", ["Almacén", "Bebidas", "Limpieza", "Desayuno"], 4),
]
