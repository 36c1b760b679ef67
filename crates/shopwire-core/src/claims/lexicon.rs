//! The English and Spanish words the reader knows, folded (lower case, no accents). Each
//! phrase is matched word by word with `normalize::same_word`, so repeated and swapped
//! letters are forgiven.

/// Letter sizes as phrases, with their place in the size order (XXS 0 … 4XL 8).
pub(crate) const LETTER_SIZES: &[(&str, u8)] = &[
    ("xxs", 0),
    ("2xs", 0),
    ("xs", 1),
    ("extra small", 1),
    ("x small", 1),
    ("xsmall", 1),
    ("extra chica", 1),
    ("extra chico", 1),
    ("extra pequena", 1),
    ("extra pequeno", 1),
    ("xch", 1),
    ("s", 2),
    ("small", 2),
    ("smalls", 2),
    ("sm", 2),
    ("chica", 2),
    ("chico", 2),
    ("pequena", 2),
    ("pequeno", 2),
    ("peque", 2),
    ("ch", 2),
    ("m", 3),
    ("medium", 3),
    ("mediums", 3),
    ("med", 3),
    ("md", 3),
    ("mediana", 3),
    ("mediano", 3),
    ("l", 4),
    ("large", 4),
    ("larges", 4),
    ("lg", 4),
    ("lrg", 4),
    ("grande", 4),
    ("g", 4),
    ("xl", 5),
    ("extra large", 5),
    ("x large", 5),
    ("xlarge", 5),
    ("extra grande", 5),
    ("xg", 5),
    ("1xl", 5),
    ("xxl", 6),
    ("2xl", 6),
    ("xx large", 6),
    ("xxlarge", 6),
    ("extra extra large", 6),
    ("doble extra grande", 6),
    ("xxg", 6),
    ("xxxl", 7),
    ("3xl", 7),
    ("xxxg", 7),
    ("xxxxl", 8),
    ("4xl", 8),
];

/// Colours as phrases, each with its colour. Longer phrases are tried first, so `azul
/// marino` is navy, not blue.
pub(crate) const COLOURS: &[(&str, &str)] = &[
    ("navy blue", "navy"),
    ("azul marino", "navy"),
    ("navy", "navy"),
    ("marino", "navy"),
    ("blue", "blue"),
    ("azul", "blue"),
    ("azules", "blue"),
    ("black", "black"),
    ("blk", "black"),
    ("negro", "black"),
    ("negra", "black"),
    ("negros", "black"),
    ("negras", "black"),
    ("white", "white"),
    ("wht", "white"),
    ("blanco", "white"),
    ("blanca", "white"),
    ("blancos", "white"),
    ("blancas", "white"),
    ("red", "red"),
    ("rojo", "red"),
    ("roja", "red"),
    ("rojos", "red"),
    ("rojas", "red"),
    ("green", "green"),
    ("verde", "green"),
    ("verdes", "green"),
    ("pink", "pink"),
    ("rosa", "pink"),
    ("rosado", "pink"),
    ("rosada", "pink"),
    ("grey", "grey"),
    ("gray", "grey"),
    ("gris", "grey"),
    ("grises", "grey"),
    ("brown", "brown"),
    ("cafe", "brown"),
    ("marron", "brown"),
    ("beige", "beige"),
    ("cream", "cream"),
    ("crema", "cream"),
    ("ivory", "cream"),
    ("yellow", "yellow"),
    ("amarillo", "yellow"),
    ("amarilla", "yellow"),
    ("orange", "orange"),
    ("naranja", "orange"),
    ("purple", "purple"),
    ("morado", "purple"),
    ("morada", "purple"),
    ("violeta", "purple"),
];

/// Number words; `weak` ones (`one`, `un`, `una`) are often pronouns or articles ("the blue
/// one") and count only when nothing else gives a quantity. `once` (ES 11, EN "one time")
/// is left out.
pub(crate) const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("un", 1),
    ("uno", 1),
    ("una", 1),
    ("two", 2),
    ("dos", 2),
    ("three", 3),
    ("tres", 3),
    ("four", 4),
    ("cuatro", 4),
    ("five", 5),
    ("cinco", 5),
    ("six", 6),
    ("seis", 6),
    ("seven", 7),
    ("siete", 7),
    ("eight", 8),
    ("ocho", 8),
    ("nine", 9),
    ("nueve", 9),
    ("ten", 10),
    ("diez", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("doce", 12),
    ("thirteen", 13),
    ("trece", 13),
    ("fourteen", 14),
    ("catorce", 14),
    ("fifteen", 15),
    ("quince", 15),
    ("sixteen", 16),
    ("dieciseis", 16),
    ("seventeen", 17),
    ("diecisiete", 17),
    ("eighteen", 18),
    ("dieciocho", 18),
    ("nineteen", 19),
    ("diecinueve", 19),
    ("twenty", 20),
    ("veinte", 20),
];

/// Number words that stand for 1 and are often not a quantity at all.
pub(crate) const WEAK_NUMBER_WORDS: &[&str] = &["one", "un", "uno", "una"];

/// Words that make the number before them a quantity: `2 pcs`, `2 piezas`, `2 pairs`.
pub(crate) const QUANTITY_UNITS: &[&str] = &[
    "pcs", "pc", "pieces", "piece", "pz", "pzs", "pza", "pzas", "piezas", "pieza", "units", "unit",
    "u", "uds", "unidades", "unidad", "pares", "pairs", "pair", "par",
];

/// Words that make the number after them a quantity: `qty 2`, `x 2`.
pub(crate) const QUANTITY_MARKERS: &[&str] = &["x", "qty", "quantity", "cantidad", "cant"];

/// Words (and glued prefixes: `sz8`) that make the number after them a size.
pub(crate) const SIZE_MARKERS: &[&str] = &[
    "size", "sz", "talla", "tallas", "numero", "num", "nro", "us", "del", "tamano",
];

/// `a pair`, `un par`: two units, or one pair of shoes.
pub(crate) const PAIR_WORDS: &[&str] = &["pair", "par"];

/// `couple`, `dozen`: fixed quantities.
pub(crate) const GROUP_WORDS: &[(&str, u32)] = &[("couple", 2), ("dozen", 12), ("docena", 12)];

/// Words after a number that make it a price or a measure, not a quantity.
pub(crate) const NOT_QUANTITY_AFTER: &[&str] = &[
    "dollars",
    "dollar",
    "dolares",
    "dolar",
    "usd",
    "bucks",
    "pesos",
    "peso",
    "mxn",
    "euros",
    "euro",
    "eur",
    "dlls",
    "dls",
    "k",
    "mil",
    "varos",
    "gbp",
    "pounds",
    "min",
    "mins",
    "minute",
    "minutes",
    "minuto",
    "minutos",
    "sec",
    "secs",
    "seg",
    "segundos",
    "hour",
    "hours",
    "hr",
    "hrs",
    "hora",
    "horas",
    "day",
    "days",
    "dia",
    "dias",
    "am",
    "pm",
    "cm",
    "kg",
    "lb",
    "lbs",
    "oz",
    "years",
    "yrs",
    "anos",
    "stars",
    "estrellas",
    "percent",
    "porciento",
];

/// Words before a number that make it a price or an age.
pub(crate) const NOT_QUANTITY_BEFORE: &[&str] = &[
    "pay", "paying", "pagar", "pago", "doy", "offer", "ofrezco", "price", "precio", "he's",
    "she's", "hes", "shes", "age", "aged", "edad",
];

/// Characters right before or after a number that make it a price or a share.
pub(crate) const MONEY_CHARS: &[char] = &['$', '€', '£', '%', '¢'];

/// Garment words that mean the same thing in EN and ES; a title word names its whole group.
pub(crate) const GARMENT_SYNONYMS: &[&[&str]] = &[
    &["jacket", "chamarra", "chaqueta", "campera", "chamara"],
    &[
        "sneakers",
        "sneaker",
        "tenis",
        "zapatillas",
        "zapatilla",
        "trainers",
        "kicks",
        "shoes",
    ],
    &[
        "tee", "tshirt", "shirt", "playera", "camiseta", "remera", "camisa",
    ],
    &["hoodie", "hoody", "sudadera", "buzo"],
    &["cap", "gorra"],
    &["hat", "sombrero"],
    &["vest", "chaleco"],
    &["jeans", "pantalon", "pants", "vaqueros"],
    &["dress", "vestido"],
    &["skirt", "falda"],
    &["sweater", "sueter", "jersey", "sweatshirt"],
    &["boots", "botas"],
    &["bag", "bolsa", "bolso"],
];

/// Words of no weight in a title (also every word shorter than 3 letters).
pub(crate) const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "del", "las", "los", "con", "una", "por", "que", "size", "talla",
];
