//! The rules' vocabulary: cue phrases in English and Spanish with what each says and how
//! much, plus the small word sets the rules consult (negators, sizes, counts, fillers).
//!
//! Patterns are written as people type them and normalized like messages (see
//! `normalize`). In a pattern, `word*` matches any word starting with `word`, `<num>` a
//! count ("2", "x2", "two", "dos") and `<size>` a clothing size ("M", "XL", "mediana").

use super::Intent;

/// What a matched cue says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Role {
    /// Evidence for one intent.
    Intent(Intent),
    /// "I'd buy", "lo compraría": an opinion, and nothing in the message is a purchase.
    Hypothetical,
    /// "too expensive", "can't afford": an opinion that cancels a claim made before it.
    Objection,
    /// "if", "unless", conditional "si": nothing in the message is a purchase.
    Conditional,
    /// "maybe", "thinking about": a claim counts half.
    Tentative,
    /// "how do I", "cómo le hago para": a how-to question ("how do I return it?"), so claim
    /// and complaint words after it in its clause are what it asks about. Asking how to
    /// buy, order or pay is a claim of its own (`BUY` cues such as "how do i buy").
    Procedure,
    /// "link", "el link", "payment link": asked for ("link pls", "send me the link", "where's
    /// the link?") it is a claim in a live sale; negated ("don't send me the link"),
    /// acknowledged ("got the link") or in a message with a complaint ("the link doesn't
    /// work") it is not.
    Link,
}

/// Context a cue needs before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Guard {
    /// None.
    Any,
    /// First word of its clause: "sold!", not "is it sold".
    ClauseStart,
    /// A claim, not a possessive: "mine!", "mine in M", not "got mine", "mine arrived".
    Claim,
    /// The message says nothing else but fillers, counts and sizes: "me!", "want 2".
    Alone,
    /// Spanish "si" meaning "if": a verb such as "fuera", "tienes", "hay" follows.
    ConditionalSi,
    /// Only in a clause asked as a question ("sold out?", "size?").
    Asked,
    /// Asked, or opening its clause: "is it real", not "how cute is it".
    Interrogative,
    /// Only in a clause not asked as a question ("sold out 😭").
    Stated,
}

/// Cues sharing a role, a weight and a guard.
#[derive(Debug)]
pub(super) struct Group {
    pub role: Role,
    pub weight: f32,
    pub guard: Guard,
    pub patterns: &'static [&'static str],
}

const fn group(role: Role, weight: f32, patterns: &'static [&'static str]) -> Group {
    Group {
        role,
        weight,
        guard: Guard::Any,
        patterns,
    }
}

const fn guarded(
    role: Role,
    weight: f32,
    guard: Guard,
    patterns: &'static [&'static str],
) -> Group {
    Group {
        role,
        weight,
        guard,
        patterns,
    }
}

const BUY: Role = Role::Intent(Intent::Buy);
const QUESTION: Role = Role::Intent(Intent::Question);
const FEEDBACK: Role = Role::Intent(Intent::Feedback);
const COMPLAINT: Role = Role::Intent(Intent::Complaint);
const OTHER: Role = Role::Intent(Intent::Other);

/// Every cue. At each position the longest matching cue wins and consumes its words.
// A table of phrases: rustfmt would give each its own line.
#[rustfmt::skip]
pub(super) const GROUPS: &[Group] = &[
    // Claims: first person, present, about the product on screen.
    group(BUY, 2.0, &[
        "i'll take", "i will take", "im taking", "i'll get one", "i'll get it",
        "i'll get <num>", "i'll get the", "i'll buy", "i will buy", "i'll have one",
        "i'll have <num>", "take my money", "dibs", "i want it", "i want one", "i want <num>",
        "i want this", "i want that", "i want the", "i want both", "i want them", "i need it",
        "i need one", "i need this", "i need that", "i need <num>", "i need the", "ring me up",
        "put me down", "count me in", "add me", "sold to me", "hold one for me",
        "hold it for me", "hold one", "save me one", "save one for me", "reserve one",
        "reserve it", "reserve me", "one for me", "claim", "claimed", "claiming", "gimme",
        "give me one", "give me <num>", "i'll cop", "copping", "add to cart", "adding to cart",
        "added to cart", "in my cart", "carted", "checking out", "im buying", "buying one",
        "buying it", "buying <num>", "getting one", "im getting", "grabbing one", "grab me one",
        "snagging", "i want to buy", "i wanna buy", "want to buy", "wanna buy", "gonna buy",
        "want to order", "wanna order", "i'd like", "i would like", "can i get", "can i have",
        "could i get", "can i buy one", "can i buy <num>", "may i have", "let me get",
        "lemme get", "let me have", "send me one", "lo quiero", "la quiero", "los quiero",
        "las quiero", "lo kiero", "la kiero", "quiero uno", "quiero una", "quiero <num>",
        "quiero el", "quiero la", "quiero los", "quiero las", "quiero este", "quiero esta",
        "quiero ese", "quiero esa", "quiero estos", "quiero esos", "quiero compr*",
        "quiero pedir", "quiero ordenar", "me lo apartas", "me la apartas", "me los apartas",
        "me las apartas", "aparta*", "aparten", "apartes", "separame*", "me separas",
        "me lo separas", "me lo guardas", "me la guardas", "guardame*", "me lo llevo",
        "me la llevo", "me los llevo", "me las llevo", "me llevo", "lo llevo", "la llevo",
        "llevo <num>", "yo lo compro", "lo compro", "la compro", "los compro", "yo compro",
        "te compro", "lo necesito", "la necesito", "necesito uno", "necesito una",
        "me lo quedo", "me la quedo", "dame uno", "dame una", "dame <num>", "mandame uno",
        "mandame una", "me anoto", "anotame", "apuntame", "me apunto", "reservame*", "lo pido",
        "la pido", "pido uno", "pido una", "yo pido", "al carrito", "en mi carrito",
        "uno para mi", "una para mi", "para mi uno", "para mi una", "lo agarro", "quisiera",
        "me gustaria comprar", "me gustaria pedir", "save me a", "save me one",
        "save me <size>", "save me <num>", "hold me a", "hold me one", "hold me <size>",
        "hold the <size>", "hold a", "i'll grab", "grab one", "grabbing", "gonna get",
        "going to get", "im gonna get", "coming home with me", "me guardas", "me quedo con",
        "me lo vendes", "me vendes", "me lo mandas", "me la mandas", "me los mandas",
        "me mandas", "i'll do <num>", "i'll do one", "i will do <num>", "me das <num>",
        "me das uno", "me das una", "me da uno", "me da una", "me regalas uno",
        "me regalas una", "buying this", "buying that", "buying the",
    ]),
    guarded(BUY, 2.0, Guard::ClauseStart, &["sold", "vendido", "vendida"]),
    guarded(BUY, 2.0, Guard::Claim, &["mine", "mio", "mia"]),
    guarded(BUY, 1.5, Guard::Alone, &["me", "want", "need", "yo", "dame", "quiero"]),
    group(BUY, 1.2, &[
        "i want", "i need", "want it", "want one", "want this", "want <num>", "need it",
        "need this", "need one", "need <num>", "quiero", "kiero", "necesito", "yo quiero",
        "compro", "buying", "me interesa", "interested", "im in", "yes please", "yes pls",
        "si porfa", "me too", "yo tambien",
    ]),
    group(BUY, 1.0, &["🛒", "🙋", "✋", "🤚", "🖐", "☝", "💸", "💳"]),
    // In a live sale, asking how to buy or pay is a claim: the answer is a reservation and
    // its payment link. Longer than the `Procedure` cues, so they win where both match.
    group(BUY, 2.0, &[
        "how do i buy", "how can i buy", "how do we buy", "how to buy", "how do i order",
        "how can i order", "how do we order", "how to order", "how do i get it", "how do i get one",
        "how do i get this", "how do i get that", "how do i get the", "how do i get <num>",
        "how can i get it", "how can i get one", "how can i get this", "how can i get that",
        "how can i get the", "how can i get <num>",
        "how do i claim", "how can i claim", "how to claim", "how do i purchase",
        "how can i purchase", "how to purchase", "how do i reserve", "how can i reserve",
        "how do i grab", "how do i snag", "how do i cop", "where do i buy", "where can i buy",
        "where do i order", "where can i order", "where to buy", "where to order",
        "can i buy", "can i order", "can i purchase", "can i reserve", "can i claim",
        "could i buy", "could i order", "can we buy", "can i still buy", "can i still get",
        "possible to buy", "possible to order", "how do i pay", "how can i pay",
        "how do we pay", "how to pay", "where do i pay", "where can i pay", "where do we pay",
        "where to pay", "ready to pay", "want to pay", "wanna pay", "let me pay",
        "invoice me", "como compro", "como lo compro", "como la compro",
        "como los compro", "como las compro", "como le compro", "como te compro", "como pido",
        "como lo pido", "como la pido", "como se pide", "como se compra", "como aparto",
        "como lo aparto", "como la aparto", "como se aparta", "como consigo",
        "como lo consigo", "como la consigo", "como le hago para compr*",
        "como le hago para ped*", "como le hago para apart*", "como le hago para ordenar",
        "como hago para compr*", "como hago para ped*", "como hago para apart*",
        "como puedo compr*", "como puedo ped*", "como puedo apart*", "como lo puedo compr*",
        "como lo puedo apart*", "donde compro", "donde lo compro", "donde la compro",
        "donde se compra", "donde puedo compr*", "donde lo puedo compr*", "donde lo pido",
        "puedo compr*", "puedo ped*", "puedo apart*", "lo puedo compr*", "la puedo compr*",
        "lo puedo apart*", "la puedo apart*", "lo puedo ped*", "se puede compr*",
        "se puede ped*", "se puede apart*", "me la vendes", "como pago", "como le pago",
        "como te pago", "como hago para pagar", "como hago el pago", "como le hago para pagar",
        "como puedo pagar", "como se paga", "donde pago", "donde le pago", "donde te pago",
        "donde pagamos", "donde se paga", "donde deposito", "donde te deposito",
        "a que cuenta", "quiero pagar", "listo para pagar", "lista para pagar",
    ]),
    group(BUY, 1.2, &["pay now", "pagar ya", "pagar ahora"]),
    // The means of paying: a link, an invoice, account details.
    group(Role::Link, 2.0, &[
        "link", "links", "el link", "the link", "a link", "enlace", "el enlace",
        "payment link", "checkout link", "pay link", "link to pay", "link de pago",
        "enlace de pago", "link para pagar", "liga", "la liga", "invoice", "the invoice",
        "an invoice", "payment request", "a payment request", "datos para pagar",
        "datos de pago", "cuenta para pagar", "numero de cuenta", "datos bancarios",
    ]),
    // Questions: price, size, stock, shipping, how to buy.
    group(Role::Procedure, 1.2, &[
        "how do i", "how can i", "how to", "where can i", "where do i", "como compro",
        "como lo compro", "como pido", "como le hago", "como hago", "como puedo", "como se",
        "donde compro", "donde puedo", "como devuelvo", "como cambio", "como cancelo",
        "como rastreo", "como sigo",
    ]),
    group(QUESTION, 1.2, &[
        "how much", "price", "prices", "pricing", "precio", "precios", "cuanto", "cost",
        "costs", "costo", "cuesta", "what size", "which size", "what sizes", "size chart",
        "do you have", "do u have", "you have", "u have", "do they come", "does it come",
        "does this come", "come in", "comes in", "available in", "will you", "can you", "can u",
        "could you", "do you", "ship to", "shipping", "delivery", "deliver", "how long",
        "when will", "when does", "when do", "when is", "where is the", "where do", "where can",
        "where to", "what is", "whats", "what material", "made of", "true to size", "tts",
        "run small", "runs small", "run big", "runs big", "run large", "runs large",
        "measurements", "length", "how tall", "still available", "in stock", "restock",
        "any left", "info", "more info", "details", "which one", "what color",
        "what colors", "other colors", "authentic", "return policy", "refund policy",
        "exchange", "can i return", "do you accept", "pay with", "how many", "what brand",
        "where are you located", "pickup", "pick up", "discount", "promo", "want to know",
        "wanna know", "want to see", "can you show", "show the", "show us", "to know", "to see",
        "saber", "vuelves a tener", "vuelven a tener", "vas a tener", "back in stock", "tienes",
        "tienen", "tenes", "hay", "queda", "quedan", "viene en", "vienen en", "que talla",
        "que tallas", "tallas", "medidas", "de que", "que material", "envio", "envios",
        "envian", "hacen envio", "mandan", "llega a", "cuanto tarda", "cuando llega",
        "donde", "disponible", "hay stock", "informacion", "mas info",
        "es original", "son originales", "aceptan", "puedo pagar", "formas de pago",
        "metodos de pago", "cual", "que colores", "colores", "otro color", "otros colores",
        "quiero saber", "me dices", "me puedes", "me das info", "para cuando", "queda chico",
        "queda grande", "talla real", "cuanto mide", "mide", "incluye", "garantia",
        "quiero ver", "muestra", "ensena", "need help",
    ]),
    guarded(QUESTION, 0.6, Guard::Asked, &[
        "available", "size", "sizes", "talla", "fit", "left", "colors", "colour", "code", "how",
        "what", "when", "where", "which", "is the", "are the", "y en", "material", "fabric",
        "tela", "marca", "safe", "legit", "seguro", "segura", "confiable",
    ]),
    guarded(QUESTION, 1.2, Guard::Asked, &[
        "sold out", "agotado", "agotada", "agotados", "se agoto",
    ]),
    guarded(QUESTION, 1.2, Guard::Interrogative, &[
        "is it", "is this", "is there", "are they", "are these", "are there", "does it",
        "does this", "does the", "do they", "will it", "will there",
    ]),
    group(QUESTION, 0.8, &["❓", "❔", "🤔"]),
    // Complaints: something went wrong with an order, the product, or the seller.
    group(COMPLAINT, 2.0, &[
        "i want a refund", "want a refund", "want my money", "i want my money",
        "quiero mi dinero", "quiero mi reembolso", "quiero devolv*", "quiero cancelar",
        "want to return", "want to cancel", "dont buy", "do not buy", "dont order",
        "do not order", "no lo compren", "no compren", "no lo compres", "no compres",
        "no le compren", "no les compren", "no les compres",
    ]),
    group(COMPLAINT, 1.5, &[
        "never arrived", "never came", "never received", "never got", "never showed",
        "hasnt arrived", "hasnt come", "hasnt shipped", "havent received", "havent gotten",
        "havent got", "didnt arrive", "didnt receive", "didnt get my", "not arrived",
        "not received", "still waiting", "still havent", "still nothing", "still no",
        "been waiting", "waiting for my", "where is my", "wheres my", "is late", "arrived late",
        "came late", "late delivery", "llego tarde", "delayed", "wrong size", "wrong item",
        "wrong color", "wrong order", "sent the wrong", "sent me the wrong", "broken", "broke",
        "ripped", "torn", "damaged", "defective", "fell apart", "falling apart", "stained",
        "missing", "poor quality", "bad quality", "cheap quality", "terrible", "awful",
        "horrible", "worst", "disappointed", "dissapointed", "disappointing", "scam", "scammer",
        "scammers", "scammed", "fraud", "fake", "rip off", "ripoff", "ripped off", "refund",
        "my money", "money back", "return it", "returning it", "charged twice",
        "double charged", "overcharged", "no response", "no one answers", "nobody answers",
        "no reply", "ignoring", "ignored", "unacceptable", "ridiculous", "never again",
        "never buying", "never ordering", "not buying from", "never buying from",
        "buy from you again", "not ordering from", "dont waste", "avoid", "waste of money",
        "not worth", "doesnt fit", "didnt fit", "shrunk", "faded", "cancel my order", "stole",
        "stolen", "trash", "garbage", "junk", "not happy", "unhappy", "upset", "angry",
        "not what i ordered", "looks nothing like", "nothing like", "false advertising",
        "misleading", "liars", "lied", "rude", "no me llego", "no me ha llegado",
        "no ha llegado", "no llega", "no llego", "nunca llego", "nunca me llego", "todavia no",
        "aun no", "sigo esperando", "llevo esperando", "llevo <num> semanas",
        "llevo <num> dias", "llevo <num> meses", "estoy esperando", "donde esta mi",
        "llego roto", "llego rota", "roto", "rota", "rompio", "defectuoso", "defectuosa",
        "danado", "danada", "mancha", "manchado", "manchada", "descosido", "talla equivocada",
        "equivocado", "equivocada", "me llego otro", "me llego otra", "no es lo que",
        "no es el que", "mala calidad", "pesima", "pesimo", "estafa", "estafadores",
        "estafador", "fraude", "robo", "ladrones", "rateros", "reembolso", "devolucion",
        "devolv*", "devuel*", "mi dinero", "nadie responde", "nadie contesta", "no contestan",
        "no responden", "no responde", "me cobraron", "cobraron doble", "decepcion*",
        "nunca mas", "never buy", "and nothing", "nothing yet", "y nada", "nada todavia",
        "used item", "sent me a used", "second hand", "coming apart", "came apart",
        "turned green", "tarnished", "empty box", "caja vacia", "incompleto", "incompleta",
        "despeg*", "se destin*", "se descos*", "se oxido", "el pedido", "never reply*",
        "never respond*", "never answer*", "never sent", "never shipped", "nunca envian",
        "nunca enviaron", "a hole", "holes", "solo llego", "nadie me", "no me responden",
        "no me contestan", "estaf*", "no me han", "no han enviado", "sin llegar", "wrong",
        "malisima", "malisimo", "me mandaron otra", "me mandaron otro", "no sirve",
        "no funciona", "no me queda", "desten*", "se encogio", "mal servicio", "que mal",
        "verguenza", "cancelar", "cancelen", "queja", "reclamo", "enojada", "enojado",
        "molesta", "molesto", "no es original", "falso", "falsa", "mentirosos", "me enganaron",
        "nada que ver", "doesnt work", "dont work", "not working", "isnt working",
        "wont work", "stopped working", "wont load", "wont open", "doesnt open", "doesnt load",
        "wont let me", "doesnt let me", "payment failed", "failed",
        "didnt go through", "not going through", "declined", "expired", "error",
        "no me deja", "no abre", "no carga", "no me abre", "no pasa mi", "no pasa el",
        "no pasa la", "no paso", "se vencio", "vencio", "expiro", "caduco", "rechazado",
        "rechazada",
    ]),
    group(COMPLAINT, 1.0, &[
        "lost", "my order", "my package", "mi pedido", "mi paquete", "mi orden", "too small",
        "too big", "cancel", "issue", "problem", "problema", "complaint", "report",
        "customer service", "me mandaron", "mala", "malo", "😡", "🤬", "👎", "😠", "😤", "💩",
    ]),
    group(COMPLAINT, 0.6, &["help", "ayuda", "🙄", "still", "todavia", "aun"]),
    // Feedback: opinions of the product, the price, the seller, the show.
    group(FEEDBACK, 1.2, &[
        "love it", "love this", "love that", "love them", "love the", "love your", "love ur",
        "love you", "loved it", "i love", "obsessed", "in love", "so cute", "cute", "gorgeous",
        "beautiful", "pretty", "stunning", "amazing", "awesome", "great", "good quality",
        "great quality", "perfect", "fits perfect", "fits perfectly", "fits great", "fits so",
        "nice", "fire", "slay", "slayed", "slays", "ate", "the best", "favorite", "favourite",
        "fav", "fave", "adorable", "soft", "comfy", "comfortable", "worth it", "worth every",
        "recommend", "thank you", "thanks", "thx", "arrived fast", "came fast", "fast shipping",
        "quick shipping", "got mine", "received mine", "got my order", "wearing mine",
        "wore it", "compliments", "looks good", "looks great", "looks amazing", "looks so",
        "look good", "happy with", "so happy", "excited", "cant wait", "not my style",
        "not a fan", "meh", "ugly", "elegant", "classy", "vibes", "its giving", "goals",
        "great deal", "good deal", "great price", "good price", "steal", "great stream",
        "great live", "you're the best", "ur the best", "gracias", "me encanta", "me encantan",
        "me encanto", "me encantaron", "encanta", "me gusta", "me gustan", "me gusto",
        "me fascina", "amo", "lo amo", "la amo", "hermoso", "hermosa", "hermosos", "hermosas",
        "bonito", "bonita", "bonitos", "bonitas", "lindo", "linda", "lindos", "lindas",
        "precioso", "preciosa", "preciosos", "bello", "bella", "bellisimo", "bellisima",
        "divino", "divina", "guapa", "guapisima", "chulo", "chula", "que padre", "increible",
        "genial", "excelente", "buena calidad", "perfecto", "perfecta", "me queda perfecto",
        "me quedo perfecto", "llego rapido", "ya me llego", "ya lo tengo", "lo recomiendo",
        "recomendado", "recomendada", "lo maximo", "la mejor", "el mejor", "eres la mejor",
        "espectacular", "hermosura", "feo", "fea", "esta bien", "muy bien", "buenisimo",
        "buenisima", "fuego", "buen precio", "que barato", "que bonito", "que bonita",
        "que lindo", "que linda", "que hermoso", "que hermosa", "que precioso", "que preciosa",
        "is everything", "how cute", "how pretty", "how beautiful", "how gorgeous", "te queda",
        "te quedo", "le queda", "te ves", "divinos", "divinas", "vale la pena", "loved",
        "bought", "i bought", "already bought", "ordered mine", "wow", "omg", "yas", "queen",
        "best", "cool", "super", "top", "mejor", "quality", "calidad", "love", "looks", "padre",
        "luv", "lov", "luv it", "lovely", "loving", "gorg", "adorbs", "what a color",
        "what a beauty", "preciosidad", "encantada", "encantado", "chulada", "padrisimo",
        "padrisima", "padrisimos", "padrisimas", "belleza", "lindura", "bonitos colores",
        "lindos colores", "hermosos colores", "bonito color", "lindo color", "hermoso color",
    ]),
    group(FEEDBACK, 0.8, &[
        "❤", "♥", "😍", "🔥", "🥰", "😻", "💕", "💖", "💗", "💓", "💞", "💘", "💯", "👏", "🤩", "✨", "👌",
        "👍", "😘", "💜", "💙", "🖤", "🤍", "💛", "💚", "🧡", "🤎", "😊", "🙌", "💅", "👑", "🥹",
    ]),
    group(Role::Hypothetical, 1.0, &[
        "id buy", "would buy", "i would buy", "id take", "would take", "id get", "would get",
        "would order", "id order", "would have bought", "wouldve bought", "would totally",
        "id totally", "id be in", "would be in", "was gonna", "was going to", "iba a",
        "lo compraba", "me lo llevaba", "me llevaba", "if only", "wish i could", "i wish",
        "wish it", "compraria", "lo compraria", "me lo compraria", "llevaria", "me lo llevaria",
        "pediria", "ojala",
    ]),
    group(Role::Objection, 1.0, &[
        "too expensive", "so expensive", "expensive", "pricey", "overpriced", "cheaper",
        "cant afford", "no money", "im broke", "so broke", "no tengo dinero", "no tengo plata",
        "no me alcanza", "caro", "muy caro", "muy cara", "esta cara", "carisimo", "carisima",
        "mas barato", "mas barata", "out of my budget", "not in my budget",
        "fuera de mi presupuesto", "tuviera dinero", "tuviera plata", "had the money",
        "had money", "carito", "carita", "pay that much", "never pay",
    ]),
    group(Role::Conditional, 0.0, &[
        "if", "unless", "as long as", "get paid", "me paguen", "quincena", "payday",
    ]),
    guarded(Role::Conditional, 0.0, Guard::ConditionalSi, &["si"]),
    group(Role::Tentative, 0.0, &[
        "maybe", "might", "perhaps", "tal vez", "talvez", "quizas", "quiza", "thinking about",
        "thinking of", "pensando", "considering", "debating", "should i", "deberia",
    ]),
    // Everything else: greetings, chatter, tags, declines.
    guarded(OTHER, 1.2, Guard::Stated, &["sold out", "agotado", "agotada", "agotados", "se agoto"]),
    group(OTHER, 1.2, &[
        "not for me", "yo no", "no thanks", "no gracias", "ill pass", "just looking",
        "just browsing", "solo viendo", "you need", "u need", "necesitas",
        "i'll take a look", "i'll take a pic", "i'll take a picture", "i'll take a screenshot",
        "i'll take a break", "i'll take a sec", "i'll take a second", "i'll take note",
        "i'll take my time", "i'll think about it", "let me think", "think about it",
        "not today", "lo pienso", "lo voy a pensar", "dejame pensarlo", "lo pensare",
        "hoy no",
    ]),
    group(OTHER, 1.0, &[
        "hi", "hello", "hey", "hola", "holi", "holis", "buenas", "buenos dias", "buenas tardes",
        "buenas noches", "good morning", "good evening", "good night", "gm", "gn", "whats up",
        "wassup", "sup", "que onda", "que tal", "first", "primera", "primero", "lol", "lmao",
        "lmfao", "haha*", "jaja*", "jeje*", "hehe*", "jsjs*", "watching from", "saludos",
        "greetings", "follow", "follow me", "follow back", "sigueme", "seguime", "check my",
        "check out my", "my page", "mi pagina", "bye", "adios", "ok", "okay", "vale", "dale",
        "new here", "first time", "early", "who else", "anyone", "shoutout", "saludame",
        "saluda", "look", "mira", "miren", "nvm", "never mind", "test", "amen", "bendiciones",
        "god bless", "paso",
    ]),
    group(OTHER, 0.8, &[
        "@", "happy", "everyone", "everybody", "todos", "👋", "😂", "🤣", "😅", "😆", "🙏",
    ]),
];

/// Words that negate a claim two words ahead ("don't want it", "no lo quiero").
pub(super) const NEGATORS: &[&str] = &[
    "not", "don't", "dont", "doesn't", "didn't", "never", "won't", "can't", "cant", "isn't", "no",
    "nunca", "jamás", "ni", "stop", "nah",
];

/// Before a link in its clause, these say it was received or used, not asked for ("got
/// the link", "ya me llegó el link", "thanks for the link").
pub(super) const LINK_ACKNOWLEDGED: &[&str] = &[
    "got", "received", "recieved", "clicked", "click", "opened", "used", "paid", "thanks", "thank",
    "thx", "tengo", "recibi", "abri", "pague", "use", "gracias", "llego",
];

/// Question cues that ask for a link ("where's the link?", "can you send the link?");
/// any other question in its clause asks about it ("is the link safe?", "cuánto dura el
/// link?").
pub(super) const LINK_ASKS: &[&str] = &[
    "where is the",
    "where do",
    "where can",
    "where to",
    "whats",
    "what is",
    "donde",
    "is there",
    "hay",
    "which one",
    "cual",
    "can you",
    "can u",
    "could you",
    "me puedes",
    "me dices",
    "do you have",
    "do u have",
    "you have",
    "u have",
    "tienes",
    "tienen",
    "me das info",
    "will you",
];

/// Words a run-together pair may start with ("iwant", "I'lltake", "loquiero").
pub(super) const RUN_ON_HEADS: &[&str] = &["i", "il", "im", "lo", "la", "yo"];

/// Words a run-together pair may end with ("takeit", "wantone", "buythis").
pub(super) const RUN_ON_TAILS: &[&str] = &["it", "one", "this", "that", "uno", "una"];

/// Common words a slip away from a cue word, never read as a typo of it ("mind" is not
/// "mine", "cut" not "cute", "quiere" not "quiero", "llego" not "llevo").
pub(super) const NOT_TYPOS: &[&str] = &[
    // Near a cue word.
    "mind", "nine", "maine", "mint", "mene", "clam", "claims", "ribs", "copying", "darted",
    "aparte", "apartar", "compre", "compra", "compras", "quiere", "quieres", "quieren", "quiera",
    "quieto", "lleva", "lleve", "llevas", "llevan", "llega", "llegas", "llegan", "pida", "pides",
    "piden", "hace", "vest", "vests", "face", "gave", "sort", "treat", "fired", "padres", "bells",
    "list", "hell", "shop", "shops", "shopping", "scan", "tame", "fake", "rake", "lake", "make",
    "bake", "cake", "wake", "talk", "went", "wait", "wand", "wane", "rant", "cut", "min", "but",
    "sol", "sole", "cold", "gold", "told", "lime", "mike", "dire", "hire", "wire", "steak",
    "queso", "lleno", "cure", "cite", "once", "rice", "mice", "party", "petty", "lobe", "dove",
    "move", "lose", "beat", "cast", "most", "same", "kinda", "sorta", "ziper", "dame", "lame",
    "came", "game", "name", "wasnt", "isnt", "thats", "whats", "hers", "here", "were", "ever",
    "very", "plus", "casa", "cada", "risa", "rosa", "bueno", "buena", "estan", "esto", "esta",
    "este", "estos", "estas", "eres", "dres", "waist", "veo", "del", "par", "til", "fre",
    // Common English words.
    "about", "after", "again", "all", "also", "always", "and", "any", "are", "around", "away",
    "back", "bad", "been", "before", "being", "better", "big", "both", "bring", "call", "can",
    "cant", "come", "could", "day", "days", "did", "didnt", "does", "doesnt", "done", "dont",
    "down", "each", "else", "even", "every", "feel", "few", "find", "first", "for", "friend",
    "from", "fun", "girl", "girls", "give", "going", "good", "got", "guys", "had", "happy", "has",
    "have", "her", "him", "his", "home", "hope", "how", "its", "just", "keep", "kind", "know",
    "last", "late", "later", "left", "less", "let", "life", "little", "long", "look", "lot",
    "lots", "made", "man", "many", "may", "maybe", "mean", "men", "might", "mom", "more", "much",
    "must", "never", "new", "next", "nice", "night", "not", "now", "off", "old", "one", "only",
    "other", "our", "out", "over", "own", "people", "put", "real", "really", "right", "said",
    "saw", "say", "says", "see", "seen", "she", "should", "show", "side", "since", "sis", "some",
    "soon", "still", "such", "sure", "than", "thank", "that", "the", "their", "them", "then",
    "there", "these", "they", "thing", "things", "think", "this", "those", "though", "time",
    "today", "tomorrow", "too", "try", "two", "under", "until", "use", "used", "want", "was",
    "watch", "way", "week", "well", "what", "when", "where", "which", "while", "who", "why",
    "will", "wish", "with", "without", "woman", "work", "would", "wow", "yeah", "year", "yes",
    "yet", "you", "your", "yours", // Common Spanish words.
    "ahi", "alla", "algo", "alguien", "algun", "alguna", "ano", "antes", "aqui", "asi", "bien",
    "bueno", "cosa", "cosas", "creo", "cual", "cuando", "dar", "decir", "desde", "dia", "dias",
    "dice", "digo", "donde", "ella", "ellas", "ellos", "eso", "esa", "ese", "estar", "estoy",
    "fue", "gente", "gusta", "hacer", "hasta", "hay", "hoy", "igual", "las", "los", "luego", "mal",
    "mama", "mas", "mejor", "menos", "mira", "mismo", "misma", "mucho", "mucha", "muy", "nada",
    "nadie", "noche", "nos", "nosotros", "nuevo", "nueva", "otra", "otro", "para", "pero", "poco",
    "porque", "puede", "pues", "que", "quien", "sabe", "ser", "sera", "sin", "sobre", "solo",
    "son", "soy", "tambien", "tan", "tanto", "tengo", "tiene", "todo", "toda", "todos", "todas",
    "tu", "una", "uno", "usted", "vamos", "vas", "ver", "vez", "voy", "ya",
];
/// After "no", these make it an exclamation, not a negation ("no way, mine!").
pub(super) const NOT_NEGATING_AFTER_NO: &[&str] = &["way", "mames", "manches", "wonder"];

/// Unstressed Spanish pronouns between a negation and its verb ("no me lo apartes").
pub(super) const CLITICS: &[&str] = &[
    "me", "te", "lo", "la", "los", "las", "le", "les", "se", "nos",
];

/// Claims with these as their first word are not negated by what comes before: in
/// "no I want it" the "no" is an interjection.
pub(super) const SUBJECTS: &[&str] = &["i", "i'll", "i'm", "i'd", "yo", "ive"];

/// Words a lone claim may come with ("me please", "want 2 in black").
pub(super) const FILLERS: &[&str] = &[
    "please", "pls", "plz", "plis", "pliz", "porfa", "porfis", "porfavor", "por", "favor", "xfa",
    "pf", "too", "also", "tambien", "next", "here", "now", "rn", "asap", "ya", "ahora", "in", "en",
    "de", "of", "the", "a", "la", "el", "one", "uno", "una", "talla", "size", "color", "black",
    "white", "red", "pink", "blue", "green", "beige", "grey", "gray", "brown", "negro", "negra",
    "blanco", "blanca", "rojo", "roja", "rosa", "azul", "verde", "gris", "cafe", "me", "mine",
    "for", "sure", "yes", "sir", "maam", "girl", "sis", "amiga", "amigo", "reina", "mi", "and",
    "y", "each", "cada",
];

/// Clothing sizes.
pub(super) const SIZES: &[&str] = &[
    "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl", "4xl", "small", "medium", "large",
    "med", "sm", "md", "lg", "chica", "chico", "mediana", "mediano", "grande", "unitalla",
];

/// Counts written as words.
pub(super) const COUNT_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "dos", "tres", "cuatro", "cinco", "seis", "un",
    "uno", "una", "both", "ambos", "ambas",
];

/// Before "mine", these make it a possessive ("got mine", "el mío").
pub(super) const NOT_CLAIM_BEFORE: &[&str] = &[
    "got", "get", "received", "receive", "love", "loved", "bought", "ordered", "wore", "wearing",
    "wear", "like", "liked", "washed", "of", "el", "la", "los", "las", "lo", "my", "recibi",
    "compre", "amo", "than", "que",
];

/// After "mine", only these (or counts, sizes, fillers) keep it a claim ("mine in M").
pub(super) const CLAIM_AFTER: &[&str] = &["pls", "please", "mine", "mio", "mia", "again"];

/// After Spanish "si", these make it "if" rather than "yes" ("si fuera más barato").
pub(super) const SI_VERBS: &[&str] = &[
    "fuera",
    "fueran",
    "fuese",
    "estuviera",
    "tuviera",
    "tuvieras",
    "tuvieran",
    "hubiera",
    "hubiese",
    "costara",
    "bajara",
    "bajaran",
    "baja",
    "bajan",
    "bajas",
    "hay",
    "tienes",
    "tienen",
    "tiene",
    "tenes",
    "viene",
    "vienen",
    "llega",
    "llegan",
    "queda",
    "quedan",
    "quedara",
    "sale",
    "es",
    "son",
    "puedes",
    "pueden",
    "pudiera",
    "haces",
    "hacen",
    "envias",
    "envian",
    "mandas",
    "mandan",
    "rebajas",
    "rebajan",
    "no",
    "consigo",
];
