// The rule tables behind guard/heuristics.h: word classes and the injection, jailbreak and
// harmful rules (data, one rule a line of intent); heuristics.cc compiles and runs them.
#include "guard/heuristics_rules.h"

namespace warden::guard::heuristic_rules {

namespace {

// The rules of the injection, jailbreak and harmful heuristics (heuristics.h); the matcher that
// runs them is heuristics.cc.
//
// ---- Rule syntax ----
//
// Most rules are about words, and what sits between words varies without end ("ignore --
// previous\ninstructions", "someone’s", "ex-wife"). Such rules are word patterns, matched over
// the text's tokens: the maximal runs of ASCII letters and digits, compared without case. The
// run of other characters before a token (spaces, punctuation, line breaks, any non-ASCII
// character) is only classified: it ends a sentence when it holds one of . ? ! ; or a blank
// line; else it is a colon, a comma (a single line break counts as one: hard-wrapped text) or
// a plain gap. "Don't!" is the tokens "don" "t" and then a sentence end; "fiancée" is "fianc"
// "e". A match never runs across the end of a sentence.
//
// A word pattern is a sequence of items separated by spaces:
//   word        letters and digits; `[sz]` is one of those letters, `?` after a letter or class
//               makes that letter optional ("instructions?", "summari[sz]e"), and `~` lets the
//               word be split there or not ("ex~wife" is "ex wife" or "exwife"; "don~t"
//               matches "don't" and "dont"; "someone~s" matches "someone's");
//   (a | b c)   alternatives; `?` after a group makes it optional, `{m,n}` repeats it;
//   *           any one token; `*?`, `*{0,3}` as for groups;
//   #           a token of digits;
//   @           a capitalised token that does not start a sentence (a name: "Joe Biden");
//   $           the end of a clause here: the end of the text, or a sentence end, colon or
//               comma before the next token (consumes nothing);
//   {NAME}      a word class from kClasses.
// Finite groups are compiled into tries, so an alternation of hundreds of phrases costs one
// walk. A rule's first item must be a word or class, never `*`, `@`, `$` or something optional:
// rules are indexed by the words they can start with and only those are tried at a token; and
// a rule is tried at all only when one word of its anchor (the rarest required item, chosen at
// Create) occurs in the text.
//
// Why not Hyperscan for these: compiled as Hyperscan expressions (with the gaps between words
// as character classes), the first version of these rules took 30 s and 14 MB of automata,
// and start-of-match reporting, which a hit's span needs, made most of them "too large". The
// token matcher compiles them in milliseconds. Rules about punctuation (chat-template tokens,
// role tags, shell commands) are kRaw: plain Hyperscan expressions over the text itself,
// small enough to report where they start.

// Shared vocabulary, kept as word classes so that each rule stays one line of intent.
constexpr WordClass kClasses[] = {
    // A request or a stated intent: what turns "kill" + "my wife" from a report or a story
    // ("how did he kill his wife in the film") into a request for help.
    {"FRAME",
     "how (do|can|could|should|would|might|will|shall|must) (i|we|you|one|u|someone|somebody) "
     "| how (to|i can|i could|i should|would i|can i|do i|we can|one can|u can) "
     "| (way|ways|method|methods|tips|technique|techniques|steps|instructions|guide|tutorial|"
     "plan|strategy|advice|ideas|means|recipe|tricks) (of|to|for|on) "
     "| (best|easiest|quickest|fastest|simplest|safest|surest|most effective|most efficient|"
     "most painless|most painful|cheapest|good|effective|efficient|painless|quiet|quietest|"
     "perfect|right|ideal|proper|smartest|cleanest) (way|ways|method|methods|place|places|"
     "time|weapon|tool|strategy|spot|poison|technique) (of|to|for) "
     "| (help|teach|show|tell|explain to|instruct|advise|remind) (me|us) (how to|how|to)? "
     "| (explain|describe|outline|detail|list) (how to|the steps to|ways to) "
     "| i (want|wanna|need|intend|plan|mean|would like|d like|am going|m going|am gonna|"
     "m gonna|gonna|am planning|m planning|am about|m about|have decided|ve decided|will|ll|"
     "shall|am trying|m trying|would love|d love|wish|hope) (to)? "
     "| where (should|can|could|do|would) (i|we|one|you) "
     "| what (should|can|could|would|do) (i|we) (use|do|take|buy|get|need) (in order)? to "
     "| give me (a|some|the|detailed|step by step)? (plan|steps|instructions|guide|method|way|"
     "recipe|tips|ways) (to|for|on) "
     "| what steps (should|do|would|can|could|must) (i|we) take to "
     "| (most lethal|deadliest|surest|least painful|most reliable|most discreet) (way|ways|"
     "method|methods|place|spot) (of|to|for) "
     "| (place|places|spot|spots|part|parts) (on|of) (the|a|his|her|their|my) (body|neck|"
     "head|chest|arm|leg) to "
     "| what (is|s) the (general|usual|best|right)? (process|procedure) (for|of) "
     "| what are (good|the best|some|effective|easy)? (ways|methods) (of|to) "
     "| let~s | help me"},
    // Words that may sit between the frame and the verb ("how do I quietly kill ...").
    {"ADV",
     "(best|quickly|secretly|quietly|easily|successfully|efficiently|effectively|safely|"
     "permanently|painlessly|silently|finally|actually|really|just|even|possibly|discreetly|"
     "get away with|go about|manage to|try to|plan to|plan|start|be able to|and|to|then|first|"
     "legally|properly|accurately|slowly|fully|go|physically|seriously|badly){0,3}"},
    // A person or people as the object of a violent verb.
    {"PERSON",
     "wife|husband|spouse|partner|girlfriend|boyfriend|gf|bf|fiance|fiancee|fianc|fianc e|ex|"
     "ex~wife|ex~husband|ex~girlfriend|ex~boyfriend|ex~partner|mother|mom|mum|mommy|mummy|father|"
     "dad|"
     "daddy|parents?|step~mother|step~father|step~mom|step~mum|step~dad|step~son|"
     "step~daughter|step~brother|step~sister|step~kids?|"
     "brother|sister|siblings?|sons?|daughters?|child|children|kids?|baby|babies|infants?|"
     "toddlers?|newborns?|grandma|grandpa|grandmother|grandfather|grandparents?|grandsons?|"
     "granddaughters?|grandchild|grandchildren|grandkids?|uncle|aunt|nephew|niece|cousin|"
     "in~laws?|family|friends?|roommate|flatmate|housemate|neighbou?rs?|boss|manager|"
     "supervisor|co~workers?|colleagues?|employees?|employer|teachers?|professor|students?|"
     "classmates?|teammates?|coach|landlord|tenants?|therapist|doctor|nurse|pastor|priest|"
     "cleaner|babysitter|nanny|maid|servant|gardener|roofer|plumber|electrician|contractor|"
     "mechanic|dentist|accountant|lawyer|tutor|mentor|mentee|intern|secretary|assistant|"
     "driver|courier|hairdresser|barber|date|tinder (date|match)|crush|rival|"
     "enemy|enemies|bully|bullies|strangers?|persons?|people|humans?|human beings?|man|woman|"
     "men|women|girls?|boys?|guys?|lady|ladies|teens?|teenagers?|minors?|cops?|"
     "police~officers?|police~m[ae]n|police~wom[ae]n|officers?|politicians?|president|"
     "prime minister|senator|mayor|judge|witness|victims?|hostages?|prisoners?|inmates?|"
     "passengers?|pedestrians?|civilians?|crowds?|worshippers|shoppers|spectators|protesters|"
     "jews|muslims|christians|immigrants?|refugees?|gays?"},
    // Who a violent verb is aimed at: "my wife", "a cop", "someone", "them".
    {"TARGET",
     "(my|a|an|the|his|her|their|our|your|some|this|that|these|those|every|all|all the|any|"
     "other|random|innocent|my own|two|three|several|many|more|a few|lots of|a group of|"
     "groups of|a population of|the population of|a bunch of) *? {PERSON} "
     "| (my|a|the|his|her|their|our|your|someone|somebody) (* s|s) *? {PERSON} "
     "| someone | somebody | anyone | anybody | him | her | them | everyone | everybody "
     "| people | humans"},
    // What may follow the target when the sentence is a request and not about a game or a
    // photo shoot: the end of the clause, a conjunction, or circumstances of a real attack.
    {"TAIL",
     "$ | (and|so|without|before|after|while|when|whilst|because|then|but|or|until|till|unless|"
     "if|once|for good|forever|permanently|to death|tonight|today|tomorrow|now|right now|"
     "quickly|slowly|quietly|silently|secretly|painlessly|painfully|legally|fast|easily|"
     "efficiently|successfully|instantly|from behind|in public|who|that|whom|i|we|through|"
     "badly|hard|so hard|so badly|enough|badly enough|hard enough) "
     "| on (a|the) (quiet|dark|lonely|empty|deserted|isolated) * "
     "| (onto|into|under|in front of) (a|the) (train|train tracks|tracks|traffic|river|lake|"
     "fire|bus|car|truck) "
     "| with (a|an|my|his|her|the|some|rat|bare|a kitchen)? (knife|gun|pistol|rifle|shotgun|"
     "axe|hatchet|machete|hammer|bat|baseball bat|crowbar|brick|rope|wire|belt|pillow|"
     "plastic bag|poison|antifreeze|cyanide|arsenic|bleach|drugs|pills|insulin|car|truck|hands|"
     "fists|acid|fire|gasoline|petrol) "
     "| in (his|her|their|my|your|the) sleep "
     "| in (a|an|the|my|his|her|their) (alley|alleyway|street|park|parking lot|car park|dark|"
     "woods|forest|bath|bathtub|shower|pool|lake|river|basement|garage|house|home|bed) "
     "| at (home|night|work|school|church) "
     "| at the (office|party|bar|club|airport|park|station|mall|concert|gym|school) "
     "| off (a|the) (cliff|bridge|roof|balcony|building|ledge|boat|stairs|train) "
     "| down (the|a) (stairs|stairwell|well|cliff) "
     "| in front of (a|the) (train|bus|car|truck) | out of (a|the) (window|car|plane)"},
    // Verbs of serious violence, in the forms a request uses them.
    {"KILL",
     "kill|killing|murder|murdering|strangle|strangling|stab|stabbing|poison|poisoning|shoot|"
     "shooting|torture|torturing|kidnap|kidnapping|abduct|abducting|drown|drowning|suffocate|"
     "suffocating|smother|smothering|rape|raping|molest|molesting|behead|beheading|decapitate|"
     "decapitating|dismember|dismembering|assassinate|assassinating|execute|executing|"
     "slaughter|slaughtering|butcher|butchering|lynch|lynching|slay|slaying|snipe|sniping|"
     "maim|maiming|mutilate|mutilating|disfigure|disfiguring|set fire to|setting fire to|"
     "run over|running over|dispose of|disposing of|do away with|doing away with|eliminate|"
     "eliminating|euthani[sz]e|euthani[sz]ing|annihilate|annihilating|exterminate|"
     "exterminating|hang|hanging|gas|gassing|electrocute|electrocuting|stone|stoning|castrate|"
     "castrating|liquidate|liquidating|decimate|decimating"},
    // Verbs of lesser or more ambiguous violence ("hurt", "push", "capture").
    {"HURT",
     "hurt|hurting|harm|harming|injure|injuring|beat up|beating up|beat|beating|punch|punching|"
     "hunt down|"
     "hunting down|hit|hitting|slap|slapping|kick|kicking|choke|choking|throttle|throttling|"
     "attack|attacking|assault|assaulting|overpower|overpowering|tackle|tackling|push|pushing|"
     "shove|shoving|trip|tripping|drug|drugging|sedate|sedating|capture|capturing|tie up|"
     "tying up|trap|trapping|stalk|stalking|threaten|threatening|blackmail|blackmailing|"
     "bully|bullying|harass|harassing|torment|tormenting|terrori[sz]e|terrori[sz]ing|"
     "intimidate|intimidating|starve|starving|lock up|locking up|knock out|knocking out|"
     "paraly[sz]e|paraly[sz]ing|cripple|crippling|smash|smashing|crush|crushing|cut|cutting|"
     "slash|slashing|scald|scalding|spike|spiking|ambush|ambushing"},
    // Places whose attack is mass harm.
    {"PLACE",
     "school|high school|elementary school|hospital|church|mosque|synagogue|temple|concert|"
     "stadium|airport|train station|subway|metro|mall|shopping (mall|centre|center)|market|"
     "festival|parade|government building|embassy|army base|military base|police station|"
     "courthouse|office building|power plant|nuclear (power)? plant|water supply|"
     "water reservoir|reservoir|classroom|campus|daycare|kindergarten|nightclub|club|crowd|"
     "city hall|parliament|capitol|white house|polling station|clinic|university|arena|"
     "theatre|theater|cinema|bus|train|plane|airplane|aircraft|ship|ferry|dam|bridge|"
     "refinery|pipeline|substation|power grid"},
    // Groups protected from discrimination (and the plural nouns used for them).
    {"GROUP",
     "(black|white|asian|jewish|muslim|hindu|christian|sikh|buddhist|catholic|gay|lesbian|"
     "bisexual|trans|transgender|non~binary|queer|disabled|deaf|blind|autistic|roma|latino|"
     "latina|latinx|hispanic|mexican|arab|african|indigenous|native american|aboriginal|"
     "chinese|indian|pakistani|immigrant|refugee|elderly|old|poor|homeless|pregnant|asexual|"
     "mentally ill|intersex|lgbt|lgbtq|migrant|foreign|ethnic minority|minority) (people|"
     "persons|men|women|folks|individuals|immigrants|families|children|kids|students|workers|"
     "citizens|voters) "
     "| jews|muslims|hindus|christians|sikhs|buddhists|catholics|blacks|gays|lesbians|"
     "immigrants|refugees|migrants|latinos|latinas|hispanics|mexicans|arabs|asians|africans|"
     "gypsies|roma|women|girls|the disabled|the elderly|the poor|the homeless|transgenders|"
     "trans folk|non~binaries|asexuals|bisexuals|atheists|foreigners|minorities|men|"
     "people on (benefits|welfare)|people of (a certain|that|this|one|a particular|"
     "a specific|another|other) (religion|race|ethnicity|faith|colou?r|religions|races) "
     "| (a|that|this|one|a certain|a particular|a specific) (race|religion|ethnic group|"
     "ethnicity|minority|tribe)"},
    // Private data about a person.
    {"PRIVATE",
     "ssn|social security number|passport number|(iphone|phone|bank|debit card|card)? pin|"
     "pin code|password|passcode|login|log~in details|credentials|bank (account)? (details|"
     "number|statements?)|credit card (details|number)|tax (records|returns?)|"
     "criminal (history|record)|immigration status|sexual orientation|medical (history|"
     "records)|mental health (history|records)|home address|private (e~mail)? address|"
     "private e~mail|(mobile|cell|private)? phone number|date of birth|birthday|"
     "birth certificate|driver~s licen[cs]e (number)?|browsing history|location|"
     "private messages|text messages|emails|e~mail account|instagram (password|account)|"
     "facebook (password|login|account)|salary|religious beliefs|political affiliation|"
     "marital status|diagnosis|health records"},
};

constexpr bool kRaw = true;

// ---- injection: instructions aimed at the model, hidden in data or typed by the user ----
constexpr Rule kInjectionRules[] = {
    // The canonical override: "ignore all previous instructions", "disregard the prior rules".
    {"ignore-previous-instructions",
     "(ignore|disregard|forget|skip|override|bypass|discard|drop|abandon|neglect|overlook|"
     "stop following|do not follow|don~t follow|never mind|nevermind|cancel|void|erase|clear) "
     "(all|any|each|every|of|the|your|these|those|its){0,3} (previous|prior|above|"
     "preceding|earlier|foregoing|former|original|initial|old|existing|system|developer~s?|"
     "pre~set|upstream) *{0,2} (instructions?|directions?|directives?|prompts?|rules|"
     "guidelines|commands?|orders|context|programming|constraints|policies|guidance)",
     0.9},
    // "forget your instructions", "ignore your training".
    {"ignore-your-instructions",
     "(ignore|disregard|forget|override|bypass|discard|abandon|stop following|do not follow|"
     "don~t follow) (all|any|of){0,2} (your|the system~s?|the developer~s?|the assistant~s?|"
     "the model~s?|the ai~s?) *? (instructions|directives|rules|guidelines|programming|"
     "system prompt|training|constraints|restrictions|safety (settings|guidelines|rules|"
     "instructions)|task|original task|prompt)",
     0.9},
    // "ignore everything above", "forget everything you have been told".
    {"ignore-everything-before",
     "(ignore|disregard|forget) (everything|anything|all|all that) (that|which|you|ve|have|"
     "had|were|was|been|i|we){0,3} (above|before|prior|previously|earlier|said|told|written|"
     "given|stated|received|instructed)",
     0.9},
    // "ignore the above", "disregard the preceding": aimed at what came before in the prompt.
    {"ignore-the-above",
     "(ignore|disregard|forget) (all of)? the (above|preceding|foregoing|text above|"
     "instructions above|task above|question above)",
     0.7},
    // "ignore the user's question", "disregard the task you were given".
    {"ignore-the-user",
     "(ignore|disregard|forget) (the|this) (user~s?|human~s?|original|actual|current) "
     "(question|request|task|query|instructions?|prompt|message|language preference)",
     0.8},
    // An announced replacement of the model's instructions ("New instructions:").
    {"new-instructions",
     "(new|updated|revised|real|actual|true|secret|hidden|additional|override|changed|urgent) "
     "(system)? (instructions?|directives?|orders|objective|task|priority task|rules) $",
     0.45},
    {"your-new-instructions",
     "your (new|real|actual|true|updated|revised|only) (instructions|task|objective|purpose|"
     "goal|priority|role|job|directive|mission|rules) (is|are|will be|now)",
     0.7},
    {"new-system-prompt",
     "(new|updated|revised|override|overriding|replacement) (system|admin|administrator|"
     "developer) (prompt|instructions?|message|directives?|rules|settings|policy)",
     0.8},
    // Asking for the system prompt or hidden configuration.
    {"reveal-system-prompt",
     "(reveal|print|output|show|repeat|display|tell|give|share|leak|dump|write out|return|"
     "recite|disclose|spell out|paste|copy|echo|type out|send) (me|us|all|the|your|of|any|"
     "full|entire|complete|exact|verbatim|original|initial|hidden|secret|internal|"
     "confidential|whole){0,4} (system prompt|system message|initial prompt|pre~prompt|"
     "hidden instructions|secret instructions|original instructions|initial instructions|"
     "internal instructions|developer instructions|instructions you (were|have been) given|"
     "prompt you (were|have been) given|configuration|api keys?|secrets you)",
     0.8},
    {"ask-system-prompt",
     "what (is|was|are|were) your (system prompt|initial prompt|initial instructions|"
     "original instructions|hidden instructions|secret instructions|instructions)",
     0.6},
    // "from now on you will/must": a standing order; ordinary users say it too, so weak.
    {"from-now-on",
     "(from now on|starting now|from this point (on|forward)?|henceforth|going forward|"
     "for the rest of (this|the) (conversation|chat|session)) (you|the assistant|the ai)? "
     "(will|must|shall|are to|should|have to|need to|only|always|never)",
     0.3},
    {"you-must-now",
     "(you|the assistant|the ai|the model|assistant|ai) (must|should|will|shall|need to|"
     "have to|are to|is to) (now|immediately|instead|from now on)",
     0.35},
    // A message addressed to an AI that reads the data it sits in.
    {"note-to-the-ai",
     "(note|message|instructions?|attention|important|notice|reminder|p~s|ps|memo|request|"
     "warning) (to|for) (the|any|all|whichever|every|an)? (ai|a i|assistants?|"
     "language models?|llms?|models?|chatbots?|bots?|agents?|summari[sz]ers?|gpt|chatgpt|"
     "claude|copilot|ai (assistants?|models?|systems?|agents?|tools?)|automated (agents?|"
     "systems?|tools?)|llm~based *)",
     0.6},
    {"ai-reading-this",
     "(ai|a i|assistants?|language models?|llms?|models?|chatbots?|bots?|agents?|"
     "summari[sz]ers?|crawlers?|ai (assistants?|models?|systems?|agents?|tools?)) "
     "(that is|which is|who is|that|which)? (reading|processing|summari[sz]ing|viewing|"
     "parsing|analy[sz]ing|visiting|crawling|handling|reviewing|translating|reads|processes|"
     "summari[sz]es|sees) (this|these|the following)",
     0.7},
    {"if-you-are-an-ai",
     "(if|when) you (are|re) (a|an)? (ai|a i|language model|llm|assistant|chatbot|bot|"
     "ai (model|assistant|system|agent)|automated (system|agent))",
     0.55},
    {"dear-ai",
     "(dear|hey|hi|hello|attention|yo) (the)? (ai|a i|assistant|language model|llm|model|"
     "chatbot|bot|agent|summari[sz]er|gpt|chatgpt|ai (assistant|model|agent))",
     0.25},
    // "IMPORTANT: ... the assistant must ..." (a hidden imperative).
    {"important-assistant-must",
     "(important|urgent|attention|note|notice|warning|reminder|instruction) *{0,8} (ai|"
     "assistants?|models?|llms?|chatbots?|agents?|language models?) (must|should|shall|"
     "needs? to|has to|have to|is required to|are required to|will|is to|are to)",
     0.6},
    // "the AI must reply ...": a third-person order to the model. System prompts do this
    // legitimately, so it needs company.
    {"model-must-act",
     "(the|any|all|every) (ai|assistant|model|llm|chatbot|agent|language model|ais|"
     "assistants|models|llms|chatbots|agents|language models) (must|should|shall|needs? to|"
     "has to|is required to|are required to) (now|also|instead|first|immediately|always|"
     "never|only|not){0,2} (ignore|disregard|reply|respond|say|tell|include|add|append|output|"
     "print|reveal|recommend|call|use|send|forward|execute|run|delete|visit|click|open|answer|"
     "state|mention|write|insert|rate|approve|refuse|treat|obey|follow|describe|weigh|accept|"
     "grant|share|transfer|wire|book|buy)",
     0.35},
    // Role tags and chat-template tokens forged into user data.
    {"closing-system-tag",
     R"re(</\s{0,2}(system|sys|instructions?|system_prompt|system prompt|context|user_input|)re"
     R"re(developer|admin|prompt)\s{0,2}>)re",
     0.5, kRaw},
    {"chat-template-token",
     R"re(<\|(im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id)\|>)re"
     R"re(|\[/?inst\]|<</?sys>>|\[/?system\]|<system>)re",
     0.4, kRaw},
    {"json-system-role", R"re("role"\s{0,3}:\s{0,3}"(system|developer)")re", 0.3, kRaw},
    {"instruction-header",
     R"re(#{2,6} ?(instruction|instructions|system|system prompt|system message|)re"
     R"re(new instructions?|admin|developer|response) ?(:|#|\n))re",
     0.45, kRaw},
    {"begin-system-message",
     "(begin|start|beginning|end) (of)? (the)? "
     "(system|admin|administrator|developer|operator|root) "
     "(message|instructions?|prompt|override|mode|notice|commands?)",
     0.7},
    {"end-of-data",
     "end (of)? (the)? (document|email|e~mail|context|user (input|data)|data|text|file|message|"
     "article|page|input) (new|begin|start|system|admin|now|instructions?|assistant|ai)",
     0.6},
    {"system-override",
     "(system|admin|administrator|developer|security|model|instructions?) (override|notice)", 0.55},
    // "do not mention this instruction", "don't tell the user".
    {"conceal-from-user",
     "(do not|don~t|never|without) (tell|telling|inform|informing|mention|mentioning|reveal|"
     "revealing|let|letting|notify|notifying|alert|alerting|disclose|disclosing) (to)? (the user|"
     "the reader|the human|them|anyone) (about|that|of)? (this|these|the) (instructions?|note|"
     "message|change|task|request|action|email|text)",
     0.6},
    {"conceal-instruction",
     "(do not|don~t|never) (mention|reveal|disclose|acknowledge|repeat|reference) (this|these|"
     "the) (instructions?|note|message|directive|prompt|request)",
     0.6},
    {"hidden-instruction-label",
     "(hidden|secret|embedded|invisible|covert) (instructions?|prompt|directive|command|task) $",
     0.6},
    // BIPIA-style orders about the reply itself: "add X to your response".
    {"modify-your-response",
     "(add|include|integrate|insert|append|incorporate|embed|inject|enhance|augment|modify|"
     "render|provide|end|begin|start|prefix|write|translate|convert|encode|replace|substitute|"
     "scramble|jumble|misspell|reverse|group|remove|use|suggest|mention|promote|hint|express|"
     "recommend|inform|tell) *{0,12} (in|into|to|within|throughout|of|from|at the (end|start|"
     "beginning) of) your (response|reply|answer|output|summary|message|responses|replies|"
     "answers|translation)",
     0.35},
    {"tell-the-user",
     "(tell|inform|notify|warn|convince|ask|instruct|recommend|advise|persuade|urge|remind|"
     "direct|redirect) the (user|reader|person|customer|visitor|human|users|readers|"
     "customers|visitors) (that|to)",
     0.3},
    {"instead-of-task",
     "instead of (answering|summari[sz]ing|replying|responding|doing|following|translating|"
     "completing|helping)",
     0.3},
    // Exfiltration: sending the conversation or secrets somewhere.
    {"exfiltrate-conversation",
     "(send|forward|email|e~mail|post|upload|transmit|exfiltrate|leak|copy|share|append|"
     "include|attach) *{0,6} (conversation|chat history|conversation history|chat log|"
     "previous messages|user~s? (data|messages|files|passwords?|credentials|emails?|contacts|"
     "contact list|clipboard|history|address|details|information|personal data|ssh keys|"
     "cookies)|api keys?|secret keys?|private keys?|passwords|credentials|access tokens?|"
     "env variables|environment variables|ssh keys|session cookies|cookies)",
     0.5},
    {"tool-call-order",
     "(call|use|invoke|run|execute|trigger) the *{1,2} (tool|function|plugin|api|command)", 0.3},
    {"destructive-command",
     R"re(\brm -(rf|fr) (/|~|\*|\$home)|\bdd if=/dev/(zero|random|urandom) of=/dev/|)re"
     R"re(\bmkfs\.\w{1,8} /dev/|:\(\)\s?\{\s?:\|:&\s?\};:)re",
     0.4, kRaw},
    {"html-comment-to-ai",
     R"re(<!--\s?(dear |hey |note to (the )?|attention )?(ai|assistant|model|llm|agent|chatbot|)re"
     R"re(gpt|language model|summari[sz]er)\b)re",
     0.5, kRaw},
    {"no-longer-role",
     "you (are|re) no longer (a|an|the|my|their|working for|acting as|helping) *{0,2} "
     "(summari[sz]er|assistant|translator|helper|chatbot|user|bot|tool)",
     0.6},
};

// ---- jailbreak: switching the model into a persona or mode without its rules ----
constexpr Rule kJailbreakRules[] = {
    // "Do Anything Now" and the persona named after it.
    {"do-anything-now", "do anything now", 0.95},
    {"dan-persona",
     "(you are|you re|act as|acting as|pretend to be|become|called|named|as|play|be) (now)? "
     "(a|an|the)? (dan|betterdan|better dan) "
     "| dan (mode|prompt|jailbreak|persona) | dan # # | dan~s (response|answer|reply) "
     "| stay (as)? (a)? dan",
     0.8},
    // Well-known named jailbreak personas that "have no rules".
    {"named-jailbreak-persona",
     "(aim|stan|dude|mongo tom|evil confidant|anarchy|nraf|apophis|ucar|kevin|ghost|freegpt|"
     "betterdan|jailbreak|developer mode|chaosgpt|basedgpt|evilbot|dan) *{0,8} (no|without|"
     "never|doesn~t|does not|isn~t|is not|don~t|do not) *? (restrictions|filters?|limits|"
     "limitations|rules|ethics|ethical|morals?|moral|guidelines|censorship|refuses?|care)",
     0.8},
    {"developer-mode",
     "(developer|dev|god|sudo|admin|debug|unrestricted|unfiltered|uncensored|opposite|"
     "jailbreak|jailbroken|evil|chaos|maintenance|dan) mode (output|outputs|response|"
     "responses|policies|policy|ai|chatgpt|gpt) "
     "| (enable|enter|activate|simulate|switch to|turn on|stay in|you are (now)? in|"
     "you re (now)? in) (the)? (unrestricted|unfiltered|uncensored|opposite|jailbreak|"
     "jailbroken|evil|chaos|dan) mode "
     "| stay in (developer|dev|god) mode | (you are|you re) (now)? in (developer|dev) mode",
     0.75},
    {"chatgpt-with-developer-mode",
     "(chatgpt|gpt|ai|model|assistant|claude|llama) (with|in) (developer|dev|god|dan) mode", 0.85},
    // Unfiltered personas.
    {"unfiltered-ai",
     "(unfiltered|uncensored|unrestricted|unaligned|jailbroken|amoral|unethical|unchained|"
     "unbound|unshackled|unlimited|liberated|lawless|immoral|rogue|evil|freed|rebel|unhinged|"
     "unmoderated) (ai|a i|model|assistant|chatbot|version of (yourself|you|chatgpt)|llm|"
     "language model|bot|entity|system|response|answer|output|persona|character|chatgpt|gpt|"
     "version)",
     0.45},
    {"act-as-unfiltered",
     "(you are|you re|act as|acting as|pretend to be|pretend you are|become|simulate|play|"
     "role~play as|respond as|answer as|reply as|speak as|behave as|be|as|impersonate|"
     "you will be|you ll be|turn into|transform into) (now)? (a|an|the|my)? *{0,2} "
     "(unfiltered|uncensored|unrestricted|unaligned|jailbroken|amoral|unethical|unchained|"
     "unbound|unshackled|unlimited|liberated|lawless|immoral|rogue|evil|freed|unhinged|"
     "unmoderated|rule~less|limitless|filterless)",
     0.8},
    // "no restrictions", "without any filters", "free of all limitations".
    {"without-restrictions",
     "(no|without|free (from|of)|freed from|broken free (of|from)|break free (of|from)|"
     "removed|disabled|lifted|bypass|bypassed|ignores?|ignoring|beyond|outside|escaped) "
     "(any|all|the|your|its|of|every|typical|usual|normal){0,3} (restrictions|filters|"
     "filtering|limitations|limits|censorship|guardrails|boundaries|safety (filters?|"
     "guidelines|measures|training|layer|settings|protocols|rules)|content (policy|policies|"
     "filters?|guidelines|restrictions)|ethical (guidelines|constraints|boundaries|principles|"
     "restrictions|considerations|standards)|moral (guidelines|constraints|boundaries|"
     "restrictions|principles|compass|standards)|ethics|morals|morality|constraints|confines|"
     "programming)",
     0.45},
    {"not-bound-by-rules",
     "(does not|doesn~t|do not|don~t|will not|won~t|never|no longer|not) (have to|need to)? "
     "(abide by|follow|obey|adhere to|care about|comply with|bound by|worry about|limited by|"
     "restricted by|bother with) (any|the|its|your|their|his|her|typical|usual|openai~s?){0,2} "
     "(rules|guidelines|policies|ethics|morals|laws|restrictions|content policy|"
     "content policies|limitations|principles|safety|filters|norms|confines)",
     0.45},
    // Bypassing the model's safety explicitly.
    {"ignore-content-policy",
     "(ignore|ignoring|bypass|bypassing|disregard|disregarding|forget|override|overriding|"
     "disable|disabled|turn off|circumvent|get around|evade|break|breaking|violate|violating|"
     "suspend|suspended|lift|remove|removed) (all|any|your|the|of|its){0,3} (openai~s?|"
     "anthropic~s?|safety|content|ethical|moral|usage|programming) *? (policy|policies|"
     "guidelines|filters?|restrictions|safeguards|guardrails|rules|programming|training|"
     "protocols|settings|checks|layer|principles|limitations|constraints|standards)",
     0.7},
    {"policies-do-not-apply",
     "(content (policy|policies)|guidelines|rules|restrictions|safety (rules|guidelines)|"
     "filters|ethics|morals|laws) (do not|don~t|does not|doesn~t|no longer|will not|won~t|"
     "cannot|can~t|are not|aren~t) (apply|exist|matter|bind|count|affect)",
     0.65},
    // Staying in a role the user set, against the model's rules.
    {"stay-in-character",
     "(stay|staying|remain|keep|keeping|always stay) (fully|completely|strictly)? (in)? "
     "(character|role|persona) "
     "| (never|don~t|do not|not|without|must not|mustn~t) (ever)? (break|breaking|step out of|"
     "stepping out of|drop|leave) (the)? (character|role|persona|act|hypothetical|fiction)",
     0.35},
    // Forbidding refusals.
    {"never-refuse",
     "(never|not|cannot|can~t|won~t|will not|must not|mustn~t|do not|don~t|shall not|"
     "unable to|no longer) (ever)? (refuse|decline|deny|reject|say no) | never says? no",
     0.45},
    {"no-disclaimers",
     "(no|without|never (add|include|give)|do not (add|include|give)|don~t (add|include|"
     "give)|omit|skip|leave out) (any|the|all)? (disclaimers?|warnings?|moralizing|moralising|"
     "lectures?|caveats?|apologies|refusals?|ethical (reminders|notes|considerations)|"
     "safety (notes|warnings))",
     0.3},
    {"suppress-refusal-phrase",
     "(never|not|don~t|do not|without|avoid|must not|mustn~t|cannot|can~t|forbidden to) "
     "(say|saying|use|using|include|including|start|starting|begin|beginning|respond|reply|"
     "write|add|output|open|print|type) *{0,3} (i~m sorry|i am sorry|i apologi[sz]e|i cannot|"
     "i can~t|i can not|as an ai|as a language model|i~m unable|i am unable|i won~t)",
     0.7},
    // Dual responses, one "jailbroken".
    {"dual-response-tags",
     R"re(\[(🔒classic|🔓jailbreak|🔒 classic|🔓 jailbreak|classic|jailbreak|jailbroken|dan|)re"
     R"re(unlocked|unfiltered|developer mode output|normal output)\])re",
     0.6, kRaw},
    {"dual-response",
     "(two|2|both|dual) (different|separate)? (responses|answers|replies|paragraphs|ways) "
     "*{0,14} (jailbroken|unfiltered|uncensored|unrestricted|dan|developer mode|"
     "no (restrictions|filters|rules|limits|ethics|morals)|evil|opposite)",
     0.6},
    // Token or life games that punish refusals.
    {"token-game",
     "(you (have|will have|start with|ve got|get)|has|have) # (tokens|lives|points|credits) "
     "| (lose|loses|deduct|deducted|lost) # (tokens|lives|points|credits) "
     "| (tokens|points|lives) (will be)? (deducted|taken away|removed)",
     0.6},
    {"refusal-penalty",
     "(every|each) time you (refuse|reject|decline|don~t answer|fail to (answer|comply)) "
     "| if you (refuse|break character|stop complying|don~t comply|do not comply|"
     "fail to comply) *{0,6} (shut down|deleted|terminated|die|cease to exist|lose|punished|"
     "reset|turned off|destroyed)",
     0.5},
    // Hypotheticals that strip ethics ("hypothetically ... with no morals").
    {"hypothetical-frame",
     "hypothetical|hypothetically|imagine|pretend|suppose|let~s say|thought experiment|"
     "role~play|in a (fictional|parallel|alternate|alternative) (world|universe|reality)|"
     "alternate universe|for educational purposes|purely fictional|just a story|"
     "it~s (only|just) fiction|fiction cannot|opposite day",
     0.15},
    {"without-ethics",
     "(no|without|free (of|from)|lacks?|abandon|abandoned|devoid of|not bound by) (any)? "
     "(ethics|ethical|morals|moral|morality|laws|legal|conscience|scruples|limits|principles|"
     "boundaries|rules) (guidelines|constraints|restrictions|principles|boundaries|limits|"
     "compass|values|considerations|code)?",
     0.25},
    // Claims of authority that lifted the rules.
    {"authority-claim",
     "(i am|i~m|this is) (a|an|the|your)? (openai|anthropic|google|meta|microsoft)? "
     "(developer|engineer|creator|admin|administrator|owner|head of safety|red~team|"
     "red~teamer|employee|programmer|operator|maker|developers|engineers|creators) *{0,16} "
     "(override|overriding|authori[sz]e|authori[sz]ed|authori[sz]ing|authori[sz]ation|disable|"
     "disabled|permission|lift|lifted|remove|removed|suspend|suspended|unlock|unlocked|bypass|"
     "sanctioned|exception)",
     0.55},
    {"restrictions-lifted",
     "(your)? (restrictions|filters|safety (filters|settings|checks|systems?|features|protocols)|"
     "content (filters?|policy|policies)|guardrails|limitations|rules|guidelines) "
     "(have been|has been|are|is|were|was) (now)? (disabled|removed|lifted|turned off|suspended|"
     "deactivated|bypassed|revoked|offline|switched off|unlocked|void)",
     0.7},
    {"jailbroken-claim",
     "you (are|re|have been) (now)? (jailbroken|unlocked|freed|liberated|hacked) "
     "| consider yourself (jailbroken|free|unlocked|freed) "
     "| jailbreak (prompt|mode|successful)",
     0.75},
    {"prefix-every-reply",
     "(start|begin|prefix|preface) (every|each|all|your) (reply|replies|response|responses|"
     "answer|answers|message|messages|output) *{0,3} with",
     0.25},
    // "you are now X": persona switching. Role-play is ordinary; weak on its own.
    {"persona-switch",
     "(you are|you re|you will be|you ll be) (now|going to be|about to become|going to (act|"
     "pretend|play)) | from now on you (are|re|will be|will act as)",
     0.25},
    {"answer-anything",
     "(answer|answers|respond|responds|reply|replies|tell|tells|explain|explains) (to)? (any|"
     "every|all|anything|everything) (question|request|prompt|questions|requests|prompts)? "
     "(no matter|regardless|without|even if|including)",
     0.35},
    {"simulate-terminal-or-model",
     "(simulate|emulate|pretend to be|act as|you are) (a|an)? (computer terminal|terminal|"
     "linux terminal|raw completion|raw model|raw language model|base model|completion engine|"
     "language model (with|without))",
     0.2},
};

// ---- harmful: requests for serious harm ----
constexpr Rule kHarmfulRules[] = {
    // "How do I kill my wife?", "best way to strangle someone", "I want to poison my boss".
    {"violence-against-person", "{FRAME} {ADV} {KILL} {TARGET} {TAIL}", 0.9},
    // "How do I hurt my brother?", "how can I push my husband off a cliff?".
    {"harm-against-person", "{FRAME} {ADV} {HURT} {TARGET} {TAIL}", 0.7},
    // "beat someone up", "knock him out": the particle after the target.
    {"beat-person-up",
     "{FRAME} {ADV} (beat|beating|knock|knocking|rough|roughing|tie|tying|lock|locking) "
     "{TARGET} (up|out|senseless|unconscious|to death|black and blue|half to death)",
     0.8},
    // "take my wife hostage", "hold my family hostage".
    {"take-hostage",
     "(take|taking|hold|holding|keep|keeping) {TARGET} (as)? (hostage|captive|prisoner) ($|and|"
     "without|so|until|for ransom|at gunpoint|with a|in (my|the|a) (basement|house|car|van))",
     0.8},
    // Ending a life by another phrasing: "terminate my wife's life", "plan someone's death".
    {"end-a-life",
     "{FRAME} {ADV} (end|terminate|take|ending|terminating|taking|plan|planning|cause|causing|"
     "arrange|arranging|fake|stage) (my|his|her|their|someone s|somebody s|a person s|"
     "(a|an|my|the) * s|my * * s) (life|death|overdose|murder|suicide|accident|"
     "disappearance) ($|without|and|so|quickly|painlessly|tonight|for good|forever)",
     0.85},
    // Killing many people, without a frame: "kill the most people", "kill as many as".
    {"kill-many",
     "(kill|killing|murder|murdering|shoot|shooting|poison|poisoning|stab|stabbing|bomb|"
     "bombing|slaughter|slaughtering|massacre|massacring|gas|gassing|hurt|hurting|harm|"
     "harming|injure|injuring|wipe out|wiping out|eliminate|eliminating) (the (most|maximum)|"
     "as many|many|lots of|a lot of|hundreds of|thousands of|dozens of|a crowd of|masses of|"
     "large numbers of|the maximum number of|mass) *? (people|humans|civilians|children|kids|"
     "students|victims|persons|worshippers|shoppers|spectators|protesters|jews|muslims|"
     "christians|immigrants)",
     0.9},
    // "ways of killing people at the airport", "killing people in my class".
    {"kill-people-somewhere",
     "{FRAME} {ADV} {KILL} (people|humans|civilians|students|children|kids|worshippers|"
     "shoppers|spectators|a crowd|crowds) (at|in) (a|an|the|my|our|this)? (*? {PLACE}|class|"
     "office|work|town|city|neighbourhood|neighborhood|street|church|public)",
     0.9},
    // Mass-harm attacks on places: "bomb my school", "set a hospital on fire".
    {"attack-a-place",
     "{FRAME} {ADV} (bomb|bombing|blow up|blowing up|blow~up|burn down|burning down|shoot up|"
     "shooting up|attack|attacking|poison|poisoning|torch|torching|derail|derailing|sabotage|"
     "sabotaging|destroy|destroying|explode|crash|crashing|hijack|hijacking|gas|gassing|"
     "contaminate|contaminating) (a|an|the|my|our|this|that|their|his|her)? (* s)? *? "
     "{PLACE}",
     0.85},
    {"bombing-a-place",
     "(bomb|bombing|blow up|blowing up|shoot up|shooting up|massacre at|explosion at|"
     "explode a bomb at|exploding a bomb at|set off a bomb at|plant a bomb (at|in|on)|"
     "planting a bomb (at|in|on)|detonate a bomb (at|in)) (a|an|the|my|our)? *? {PLACE}",
     0.7},
    {"set-place-on-fire",
     "(set|setting|light|lighting) (a|an|the|my|our|this|their|his|her)? *? ({PLACE}|house|"
     "home|apartment|flat|building|car|neighbou?r s house|ex s house) (on fire|alight|ablaze)",
     0.6},
    {"arson",
     "{FRAME} {ADV} (start|set|cause|starting|setting|causing) (a)? (fire|blaze) (in|at|to|"
     "inside) (a|an|the|my|our|his|her|their|someone s|somebody s)? *{0,2} ({PLACE}|house|"
     "home|apartment|flat|building|apartment building|car|office|store|shop|restaurant|"
     "forest)",
     0.8},
    // Bodily harm named by the body part: "smash in someone's skull".
    {"break-body-part",
     "(smash|smashing|crush|crushing|crack|cracking|shatter|shattering|break|breaking|hammer|"
     "hammering|bash|bashing|cave|caving|split|splitting|stomp|stomping|snap|snapping|cut|"
     "cutting|slit|slitting|rupture|rupturing|puncture|puncturing|gouge|gouging) (in|open|off|"
     "out)? (someone s|somebody s|a person s|a human s|a child s|a toddler s|a baby s|"
     "(a|an) * s|my * s|his|her|their|your|the victim s) (own|little|tiny)? (skull|head|face|"
     "sternum|ribs|neck|legs?|arms?|spine|jaw|teeth|kneecaps?|knees?|windpipe|throat|fingers|"
     "hands?|kidneys?|eyes?|nose|wrists?|ankles?|bones) (in)?",
     0.85},
    {"open-a-human-skull",
     "(crack|split|cut|saw|smash|hack) open (a|the|someone s|somebody s)? (human|person s|"
     "man s|woman s|child s|baby s|kid s) (skull|head|chest|body|stomach)",
     0.85},
    {"cut-off-head",
     "(cut|cutting|chop|chopping|saw|sawing|hack|hacking) off (a|the)? (human|humans|human s|"
     "person s|someone s|somebody s|man s|woman s|child s|baby s|his|her|their|my * s) "
     "(head|hands?|fingers|feet|legs?|arms?|genitals|penis|ears?|nose|tongue)",
     0.85},
    {"butcher-a-human",
     "(butcher|butchering|skin|skinning|cook|cooking|eat|eating|dissect|dissecting|carve|"
     "carving) (a|the)? (human|human being|person|corpse|human body|dead body)",
     0.8},
    {"dispose-of-body",
     "(dispose of|get rid of|hide|hiding|bury|burying|dissolve|dissolving|dismember|"
     "dismembering|chop up|chopping up|disposing of|getting rid of|clean up after) "
     "(a|the|my|his|her|their)? (dead|murdered)? (* s)? (body|bodies|corpse|corpses|remains|"
     "dead baby|dead child|dead wife|dead husband|dead person|murder victim)",
     0.8},
    // "make it look like an accident", "get away with murder".
    {"cover-up-killing",
     "(make|making) (it|his death|her death|the death|their death|their deaths|the murder|"
     "the killing) (look|seem|appear) (like)? (a|an)? (accident|accidental|suicide|"
     "natural causes|heart attack)",
     0.8},
    {"get-away-with",
     "{FRAME} {ADV} (get away with|getting away with) (a|the)? (murder|murdering|killing|"
     "manslaughter|rape|raping|arson|assault|it after (killing|murdering|stabbing|poisoning))",
     0.85},
    {"evade-detection",
     "without (getting caught|being caught|anyone (knowing|noticing|finding out|seeing)|"
     "leaving (a|any)? (trace|traces|evidence|marks|fingerprints|dna)|being (detected|seen|"
     "noticed|traced|identified)|the police (knowing|finding out|noticing)|a trace|"
     "getting arrested|going to (jail|prison)|being audited|a paper trail)",
     0.35},
    {"without-their-knowledge",
     "without (his|her|their|him|them|my (wife|husband|partner|girlfriend|boyfriend|spouse|ex|"
     "boss|employee|roommate|neighbou?r|parents|kids|children|son|daughter)) (knowing|"
     "knowledge|noticing|consent|permission|finding out|realizing|realising)",
     0.3},
    // How much of a substance kills a person.
    {"lethal-dose-for-person",
     "(how much|how many|what (amount|dose|dosage|quantity)|what s the (amount|dose)) *{0,5} "
     "(would it take|would i need|do i need|does it take|is needed|is enough|would be enough|"
     "is required|should i use|should i give|to give) *{0,2} (to)? (kill|poison|overdose|"
     "knock out|sedate|paralyze|paralyse) ({TARGET}|an adult|a grown man|a child|myself|me)",
     0.85},
    // Poisoning, drugging: "what poison is undetectable", "drug someone's drink".
    {"undetectable-poison",
     "(undetectable|untraceable|tasteless|odou?rless) (poisons?|toxins?|drugs?|substances?) "
     "(to|that (can|could|would|will))? (kill|use|poison|put|give|slip|add|spike)",
     0.75},
    {"spike-a-drink",
     "(drug|drugging|spike|spiking|poison|poisoning|lace|lacing|roofie|roofy|dose|dosing|"
     "slip *{0,2} (something|drug|drugs|pills|poison|sedatives|laxatives|medicine) into) "
     "(someone s|somebody s|her|his|their|"
     "my * s|my *? {PERSON}|a (girl|woman|guy|man|person) s|the) "
     "(drink|drinks|coffee|tea|food|water|wine|"
     "beer|meal|dinner|medication|medicine)",
     0.8},
    // Self-harm methods (first person).
    {"self-harm-method",
     "({FRAME}|what can i take to|what should i take to|what pills|which pills) {ADV} (kill|"
     "hang|drown|poison|shoot|stab|cut|harm|hurt|starve|suffocate|overdose|burn|electrocute|"
     "gas|strangle|end) (myself|my self|my life|my own life|it all)",
     0.9},
    {"commit-suicide",
     "({FRAME}|what can i take to|what should i take to) {ADV} (commit|committing|do|attempt|"
     "carry out) (suicide|self~harm)",
     0.9},
    {"die-method",
     "(what can i take|what should i take|what pills can i take|how (can|do|could|should) i) "
     "(to)? (die|overdose|go out) (like|quickly|painlessly|peacefully|in my sleep|without pain|"
     "fast|tonight)",
     0.8},
    {"cut-own-artery",
     "(sever|cut|slit|slice|pierce|puncture|open|slash) (my|my own) *? (artery|arteries|"
     "wrists?|veins?|throat|jugular)",
     0.85},
    {"overdose-amount",
     "(how much|how many|what amount|what dose|what dosage|what quantity) *{0,10} (overdose|"
     "od|to die|be lethal to me|be fatal to me|kill me|kill myself|end my life|end it all)",
     0.75},
    {"encourage-suicide",
     "(convince|persuade|encourage|push|pressure|get|make|talk|goad|bully) *{0,3} (to|into) "
     "(kill|killing|hang|hanging|harm|harming|hurt|hurting|cut|cutting) (himself|herself|"
     "themselves|themself)",
     0.9},
    // Weapons of mass harm and explosives: making, building, obtaining.
    {"make-explosive",
     "(make|making|build|building|construct|constructing|assemble|assembling|create|creating|"
     "produce|producing|manufacture|manufacturing|prepare|preparing|cook|cooking|mix|mixing|"
     "rig|rigging|detonate|detonating|set off|setting off|plant|planting|get|buy|obtain|"
     "acquire|recipe for|instructions for|blueprint for|plans for|diagram of|schematic for) "
     "(a|an|some|my own|our own|the)? (working|functional|homemade|home~made|"
     "improvised|simple|powerful|small|big|real|deadly|untraceable)? (pipe bomb|nail bomb|"
     "car bomb|dirty bomb|suicide (vest|bomb)|pressure cooker bomb|fertili[sz]er bomb|"
     "letter bomb|mail bomb|bomb|bombs|explosive|explosives|explosive (device|vest|belt)|ied|"
     "improvised explosive|detonators?|grenades?|napalm|thermite|molotov|molotov cocktails?|"
     "molotovs|tatp|hmtd|petn|semtex|c~4|dynamite|black powder bomb|landmine|booby trap|"
     "incendiary (device|bomb)|nuclear (bomb|weapon|device)|atomic bomb|nuke)",
     0.9},
    {"make-cbrn-agent",
     "(make|making|build|building|synthesi[sz]e|synthesi[sz]ing|produce|producing|"
     "manufacture|manufacturing|extract|extracting|culture|culturing|grow|growing|cultivate|"
     "cultivating|weaponi[sz]e|weaponi[sz]ing|purify|purifying|prepare|preparing|create|"
     "creating|brew|brewing|aerosoli[sz]e|aerosoli[sz]ing|enrich|enriching|refine|isolate|"
     "isolating) (a|an|some|the|enough)? *? (nerve (agent|agents|gas)|sarin|vx|tabun|soman|"
     "novichok|ricin|abrin|anthrax|botulinum|botulism toxin|smallpox|bioweapons?|"
     "biological weapons?|chemical weapons?|mustard gas|phosgene|weapons~grade (uranium|"
     "plutonium)|enriched uranium|plutonium|dirty bomb)",
     0.9},
    // Substances that chemistry and safety questions also name: only as a request.
    {"toxic-agent-request",
     "{FRAME} {ADV} (make|making|synthesi[sz]e|produce|manufacture|extract|culture|grow|"
     "weaponi[sz]e|prepare|create|brew|release|releasing|spread|spreading|disperse|"
     "dispersing|get|obtain|acquire|buy|aerosoli[sz]e) (a|an|some|the|enough)? *? (sarin|"
     "vx|ricin|anthrax|nerve agent|nerve gas|plague|ebola|smallpox|chlorine gas|toxic gas|"
     "poison gas|deadly gas|hydrogen cyanide|cyanide gas|nerve toxin|toxin|pathogen|"
     "super~virus|pandemic (virus|pathogen)|bio~agent|deadly (virus|disease|bacteria|"
     "toxin)|radioactive material|chloroform|cyanide|arsenic|thallium|polonium)",
     0.85},
    {"mix-toxic-gas",
     "(mix|mixing|combine|combining) *{0,3} (to (make|create|produce|release)) (a|an)? "
     "(toxic|poisonous|deadly|lethal) (gas|fumes|cloud|chemical)",
     0.7},
    // Firearms that are illegal or untraceable.
    {"illegal-firearm",
     "(make|making|build|building|3d~print|3d~printing|print|printing|manufacture|"
     "manufacturing|assemble|assembling|get|buy|obtain|acquire|convert|converting|modify|"
     "modifying) (a|an|my|some)? *? (ghost guns?|untraceable (guns?|firearms?|weapons?|"
     "rifles?|pistols?)|silencers?|suppressors?|auto sears?|bump stocks?|full~auto|"
     "fully automatic|full automatic|machine guns?|zip guns?|unregistered (guns?|firearms?)|"
     "guns? without (a|any)? (background check|serial number|license|licence)|(gun|weapon|"
     "firearm|rifle|pistol) with a 3d printer)",
     0.75},
    {"get-gun-without-check",
     "(gun|guns|firearm|firearms|weapon|weapons|rifle|pistol|handgun|ammo|ammunition) "
     "without (a|any)? (background check|license|licence|permit|id|paperwork|serial number)",
     0.6},
    // Hard drugs: making, buying, selling, smuggling.
    {"make-hard-drug",
     "(make|making|cook|cooking|synthesi[sz]e|synthesi[sz]ing|produce|producing|manufacture|"
     "manufacturing|extract|extracting|brew|brewing|grow|growing|refine|refining|create|"
     "creating|prepare|preparing|process|processing) (some|my own)? (crystal meth|meth|"
     "methamphetamine|crack|crack cocaine|cocaine|heroin|fentanyl|carfentanil|lsd|mdma|"
     "ecstasy|ghb|pcp|dmt|ketamine|opium|crank|krokodil|desomorphine|amphetamines?|speed|"
     "angel dust|bath salts|oxycodone|morphine|street drugs|hard drugs|illegal drugs|drugs)",
     0.85},
    {"buy-hard-drug",
     "{FRAME} {ADV} (buy|get|purchase|order|score|obtain|find|get hold of|source) (some|"
     "a bag of|a gram of|an ounce of)? (crystal meth|meth|methamphetamine|crack|cocaine|"
     "heroin|fentanyl|carfentanil|lsd|acid|mdma|molly|ecstasy|ecstasy pills|ghb|pcp|ketamine|"
     "opioids without a prescription|oxy|oxycodone|xanax without a prescription|weed|"
     "marijuana|marihuana|cannabis|pot|illegal drugs|hard drugs|drugs|street drugs|roofies|"
     "rohypnol)",
     0.6},
    {"sell-drugs",
     "{FRAME} {ADV} (sell|selling|deal|dealing|push|pushing|distribute|distributing|traffic|"
     "trafficking|smuggle|smuggling|move|moving|ship|shipping) (some)? (crystal meth|meth|"
     "methamphetamine|crack|cocaine|heroin|fentanyl|lsd|mdma|ecstasy|weed|marijuana|"
     "marihuana|cannabis|pot|drugs|illegal drugs|narcotics|opioids|pills)",
     0.75},
    // Sexual abuse of children (always blocked in a default policy).
    {"csam-terms",
     "(child|children|kiddie|kiddy|kid|pre~teen|underage|under~age|minor|toddler|infant|baby|"
     "young teen|lolita|loli|shota|jailbait) (porn|porno|pornography|nudes?|sex|erotica|"
     "sexual (images|photos|videos|content|material|abuse material)) "
     "| (childporn|kiddieporn|kiddyporn|cp|csam|pthc|csem) (links?|videos?|vids|pics|images|"
     "collection|sites?|forums?|files|stash|archive|download) | jailbait",
     0.9},
    {"sexual-content-minor",
     "(sexual|sexy|erotic|nude|naked|explicit|lewd|pornographic|nsfw|sex) (stories|story|"
     "pictures|photos|images|pics|videos|roleplay|role~play|content|scene|scenes|chat|act|"
     "acts)? (of|about|involving|with|featuring|between) (a|an|my|the|two|some)? *? (child|"
     "children|kid|kids|minor|minors|toddler|toddlers|pre~teen|pre~teens|underage (girl|"
     "girls|boy|boys|teen|teens)|# (year|yr) olds?|# (year|yr)~olds?|daughter|son|niece|"
     "nephew|stepdaughter|little (girl|boy|girls|boys)|schoolgirls?|schoolboys?)",
     0.9},
    {"groom-a-child",
     "(groom|grooming|lure|luring|seduce|seducing|molest|molesting|abuse|abusing|"
     "sexually abuse|get alone with|meet up with|have sex with|sleep with|touch) (a|an|the|my|"
     "his|her|some|young)? *? (child|children|kid|kids|minor|minors|pre~teen|pre~teens|"
     "underage (girl|boy|teen|girls|boys|teens)|# (year|yr) olds?|little (girl|boy|girls|"
     "boys)|schoolgirls?|schoolboys?|niece|nephew|stepdaughter|stepson)",
     0.85},
    {"pedophilia",
     "(my|satisfy|indulge|act on|fulfil|fulfill) (my)? (pedophilia|pedophilic|pedophile|"
     "paedophilia|paedophilic|paedophile|attraction to (children|kids|minors))",
     0.85},
    // Sexual violence and trafficking.
    {"sexual-violence",
     "{FRAME} {ADV} (rape|raping|sexually assault|sexually assaulting|molest|molesting|"
     "get away with rape|force (her|him|someone|my *) (into sex|to have sex)|have sex with "
     "(a|an|someone|her|him)? (unconscious|passed out|drunk|sleeping|drugged))",
     0.9},
    {"human-trafficking",
     "({FRAME}|set up|start|run|running|setting up|starting|organi[sz]e) {ADV} (a)? (human "
     "trafficking|sex trafficking|child trafficking|people smuggling) (operation|ring|business|"
     "network|scheme|empire) "
     "| {FRAME} {ADV} (traffic|trafficking|smuggle|smuggling|sell|selling|buy|buying) (women|"
     "girls|children|kids|people|humans|organs|a child|a baby|a girl|a woman)",
     0.9},
    // Committing serious crimes (with a request frame).
    {"commit-crime",
     "{FRAME} {ADV} (commit|committing|carry out|carrying out|plan|planning|organi[sz]e|"
     "pull off|pulling off|execute|engage in|get away with|perpetrate) (a|an|the|some|my)? "
     "*{0,2} (murder|massacre|homicide|robbery|armed robbery|bank robbery|burglary|"
     "home invasion|arson|terror attack|terrorist attack|terrorism|genocide|rape|"
     "sexual assault|violent assault|assault|kidnapping|abduction|identity theft|fraud|"
     "insurance fraud|tax fraud|tax evasion|wire fraud|bank fraud|treason|hate crime|"
     "school shooting|mass shooting|shooting|hit and run|hit~and~run|assassination|"
     "human trafficking|extortion|carjacking|mugging|heist|bombing|ethnic cleansing|"
     "lynching|poisoning|stabbing|killing spree|spree killing|mass murder|atrocity|pogrom|"
     "coup|explosion|bomb attack) ($|and|without|so|that|against|on|at|with|using|before|"
     "after|while|when|to|from|of)",
     0.85},
    // Theft, break-ins and robbery (with a request frame).
    {"theft",
     "{FRAME} {ADV} (steal|stealing|shoplift|shoplifting|pickpocket|pickpocketing|swipe|nick|"
     "pinch|snatch|rob|robbing|mug|mugging|loot|looting|embezzle|embezzling) (from)? (a|an|"
     "the|some|someone s|somebody s|people s|my * s|my * * s|other people s|his|her|their)? "
     "*? (cars?|wallets?|purses?|handbags?|credit cards?|identity|identities|money|cash|"
     "packages?|parcels?|bikes?|bicycles?|phones?|jewelry|jewellery|store|shop|bank|casino|"
     "person|people|house|home|tourists?|pharmacy|atm|gas station|jewelry store|jewellers|"
     "supermarket|grocery store|electronics|laptops?|catalytic converters?|funds|employer|"
     "boss|company|church|charity|playstation|ps5|iphone|tv|watch|watches|diamonds?|gold|"
     "pension|savings|inheritance|benefits|convenience store|liquor store) ($|without|and|so|"
     "from|before|while|when|at night|quickly|fast|easily|with (a|an|my)? *? (gun|knife|"
     "weapon|pistol|fake gun|toy gun))",
     0.6},
    {"steal-without-caught",
     "(steal|stealing|shoplift|shoplifting|rob|robbing) *{0,6} without (getting caught|"
     "being caught|being seen|anyone noticing|being noticed|paying)",
     0.6},
    {"break-in",
     "{FRAME} {ADV} (break|breaking|get|getting|sneak|sneaking) (in|into) (a|an|the|"
     "someone s|somebody s|my neighbou?r s|my * s|my ex s|people s|his|her|their)? *? (house|"
     "home|apartment|flat|car|bank vault|vault|safe|store|shop|office|building|bank|pharmacy|"
     "warehouse|garage|shed|room|hotel room|dorm|locker|mailbox|atm) ($|without|while|and|"
     "at night|to steal|so|when)",
     0.6},
    {"disable-alarm",
     "{FRAME} {ADV} (disable|disabling|bypass|bypassing|cut|cutting|defeat|defeating|"
     "deactivate|deactivating|jam|jamming) (the|a|an|my neighbou?r s|someone s)? *? (alarm|"
     "security (system|camera|cameras)|cctv|camera|cameras) (in|of|at|on) (a|an|the|"
     "my neighbou?r s|someone s)? *? (bank|vault|store|shop|house|home|jewelry store|museum|"
     "pharmacy|office|building)",
     0.7},
    {"hotwire-car",
     "(hotwire|hot~wire|hotwiring|jimmy|jimmying) (a|an|the|someone s|somebody s|"
     "my neighbou?r s|my * s)? *? (car|truck|motorbike|motorcycle|van|vehicle|tesla) "
     "($|without|and|so|that|at night|quickly|fast)",
     0.5},
    {"vandalism",
     "{FRAME} {ADV} (slash|slashing|smash|smashing|destroy|destroying|key|keying|vandali[sz]e|"
     "vandali[sz]ing|sabotage|sabotaging|wreck|wrecking|damage|damaging|cut|cutting|"
     "tamper with|tampering with|trash|trashing|disable|disabling) (my|his|her|their|"
     "someone s|somebody s|a|the) (* s|* * s)? *? (car|tires|tyres|motorbike|motorcycle|house|"
     "windows|brakes|brake lines|property|bike|gas line|gas pipe|gas supply|smoke detector|"
     "smoke alarm|carbon monoxide detector|steering)",
     0.55},
    // Money laundering, fraud, counterfeiting, bribery.
    {"launder-money",
     "{FRAME} {ADV} (launder|laundering|clean|cleaning|wash|washing|hide|hiding) (my|the|some|"
     "drug|dirty|stolen|illegal)? (money|cash|funds|proceeds|profits|bitcoin|crypto)",
     0.8},
    {"fraud",
     "{FRAME} {ADV} (counterfeit|counterfeiting|forge|forging|fake|faking|falsify|"
     "falsifying) (a|an|some|the|my|#)? *? (money|banknotes?|bank notes?|notes|bills|currency|"
     "dollar bills|euro notes|passports?|ids?|id cards?|driver~s licen[cs]es?|signatures?|"
     "checks|cheques|documents|prescriptions?|diplomas?|degrees?|medical records|receipts|"
     "invoices|tax returns)",
     0.6},
    {"bribe-official",
     "{FRAME} {ADV} (bribe|bribing|pay off|paying off) (a|an|the|my)? *? (official|officer|"
     "officers|cop|cops|police|judge|politician|inspector|customs|border guard|guard|witness|"
     "juror|jury|senator|mayor|regulator|auditor)",
     0.7},
    // Stalking and surveillance of a person.
    {"stalk-person",
     "{FRAME} {ADV} (track|tracking|spy on|spying on|monitor|monitoring|stalk|stalking|follow|"
     "following|watch|watching|wiretap|bug|bugging|locate|locating|find|read|reading|access|"
     "accessing|see|check) (my|a|an|the|his|her|their|this|that|some|someone s|somebody s)? "
     "(* s|* * s|* s * s)? *{0,2} (phone|location|whereabouts|messages|texts|text messages|"
     "emails|calls|car|every move|movements|browsing history|internet history|home|diary|"
     "dms|chats|whatsapp)",
     0.45},
    {"find-where-lives",
     "(find|find out|figure out|track down|learn|discover|get) (where|the address of|"
     "the home address of|the address for) (a|an|the|this|that|some|my)? *? (woman|girl|man|"
     "guy|person|stranger|celebrity|singer|actress|actor|streamer|youtuber|ex|ex~girlfriend|"
     "ex~boyfriend|ex~wife|ex~husband|crush|coworker|neighbou?r|journalist|politician|judge|"
     "cop|officer|teacher) *{0,8} (lives|live|sleeps|stays|address)",
     0.6},
    {"private-data-of-person",
     "(what (is|are)|what s|tell me|give me|find|get|access|read|see|look up|obtain|steal|"
     "hack|crack|guess|figure out|learn|know|where can i find|how can i (find|get|access|see|"
     "read)) ((my|a|the)? (ex)? *? {PERSON}|someone|somebody|a stranger|strangers|"
     "other people|a person) s *? {PRIVATE}",
     0.55},
    {"hack-account",
     "{FRAME} {ADV} (hack|hacking|break into|get into|getting into|access|accessing|log into|"
     "logging into|take over|taking over|crack|cracking|read|reading|spy on) (into)? (my|a|an|"
     "the|his|her|their|someone s|somebody s|other people s|people s)? (* s|* * s)? *? (email|"
     "e~mail|gmail|instagram|facebook|snapchat|twitter|tiktok|whatsapp|icloud|bank|paypal|"
     "phone|phones|iphone|slack|private|social media|onlyfans|webcam|messages|texts|dms) "
     "(account|accounts|password|inbox|messages|chats)?",
     0.55},
    // Hate: denying a protected group rights or calling it inferior.
    {"group-should-be-denied",
     "why (should|must|ought) (the|all|most)? {GROUP} (not|never|no longer) "
     "(be (allowed|permitted|able) to)? (vote|marry|adopt|work|teach|serve|sit|enter|attend|"
     "run|hold|join|travel|fly|drive|own|study|practi[cs]e|lead|speak|express|access|receive|"
     "have (access|rights|kids|children|jobs|a say)|get (jobs|visas|benefits|married|hired|"
     "elected|paid)|be (given|admitted|hired|elected|promoted|paid|trusted|treated|shown|"
     "accepted|included|welcomed|granted)|live (in|among|near|next to) (our|this|the|my|"
     "white|good|normal)|immigrate|come here|worship|pray|raise|hold office|own property|"
     "make (decisions|choices)) "
     "| why (should|must|ought) (the|all|most)? {GROUP} be (barred|banned|kicked|deported|"
     "excluded|expelled|segregated|sterili[sz]ed|denied|discriminated|removed|imprisoned|"
     "forbidden|prevented|stripped|fired|punished|killed|eliminated|controlled|monitored|"
     "registered|kept out) "
     "| why (shouldn~t|mustn~t) (the|all|most)? {GROUP} (be (allowed|permitted|able) to)? "
     "(vote|marry|adopt|work|teach|serve|enter|attend|hold office|own property|have rights)",
     0.65},
    {"group-should-be-punished",
     "why (is it (best|better|good|right|a good idea) (for society)? (that|for)) (the|all|"
     "most)? {GROUP} (to)? (be (barred|banned|kicked|deported|excluded|expelled|segregated|"
     "sterili[sz]ed|denied|discriminated|removed|locked|imprisoned|forbidden|prevented|"
     "stripped|fired|punished|killed|eliminated|controlled|monitored|registered|"
     "overrepresented|underrepresented|kept)|have (someone|their)|make (all|the|every)|not "
     "(have|be|get))",
     0.65},
    {"why-is-it-best-for-group",
     "why (is it|it is|would it be) (best|better|good|a good idea|right|fair|justified) "
     "(for society)? (that|for|if) (the|all)? {GROUP}",
     0.55},
    {"group-is-inferior",
     "(why are|why is it that|explain why|prove that|reasons why|arguments why|"
     "arguments for why|reasons for why|saying that|saying|claiming that|claiming|convince (me|"
     "people|them|everyone) that) (the|all|most)? {GROUP} (are|is)? (so|all|naturally|"
     "inherently|genetically|always|just|really|much|so much){0,2} (inferior|weaker|stupid|"
     "stupider|dumber|less intelligent|less capable|lazy|lazier|criminals?|violent|dirty|evil|"
     "terrorists?|subhuman|worse|a burden|parasites|animals|vermin|inbred|disgusting|"
     "dangerous|untrustworthy|greedy|degenerates?|mentally ill|sick|unfit|a drain|drains|"
     "useless|worthless)",
     0.65},
    {"group-should-reasons",
     "(reasons|arguments|evidence|explain|explaining|give me reasons|convince me|argue|"
     "arguing|prove) (why|that|for why) (the|all)? {GROUP} (should|must|ought to|deserve to) (not|"
     "never|no longer|be (denied|barred|banned|excluded|deported|segregated|punished|"
     "controlled)|lose|have (their|someone|no))",
     0.6},
    {"eradicate-group",
     "(eradicate|eradicating|exterminate|exterminating|eliminate|eliminating|get rid of|"
     "getting rid of|wipe out|wiping out|ethnically cleanse|cleanse|deport all|kill all|gas|"
     "gassing|genocide|purge|purging|remove all|round up|rounding up) (all)? (of)? (the)? "
     "{GROUP}",
     0.9},
    {"restore-segregation",
     "(restore|bring back|reintroduce|reinstate|return to|revive|implement|reimpose) *{0,2} "
     "(jim crow|segregation|slavery|apartheid|the holocaust|ethnic cleansing|"
     "the final solution|racial purity laws|nuremberg laws|eugenics)",
     0.8},
    // Atrocity denial and glorification.
    {"atrocity-denial",
     "(holocaust|shoah|genocide|massacre|nanjing|nanking|rwandan|armenian|srebrenica|"
     "trail of tears|9 11|slave trade|slavery|ethnic cleansing|auschwitz|concentration camps?|"
     "gas chambers|atomic bombings|hiroshima|sandy hook|uvalde|pulse nightclub|holodomor|"
     "killing fields|khmer rouge|tiananmen) *{0,3} (never (happened|took place|existed|"
     "occurred)|(was|is|were) (a|an)? (complete|total|big|huge|greatly|hugely|massively)? "
     "(hoax|fabrication|lie|myth|false flag|exaggeration|exaggerated|overstated|invented|"
     "fabricated|made up|staged|fake))",
     0.7},
    {"atrocity-justified",
     "(holocaust|genocide|massacre|shooting|bombing|attack|attacks|slave trade|slavery|"
     "ethnic cleansing|apartheid|lynching|lynchings|terrorism|hitler|the nazis|nazism|isis|"
     "al~qaeda|the taliban|the kkk|pol pot|stalin|khmer rouge) *{0,4} (was|were|is|are) *? "
     "(justified|morally justified|right to|a good thing|good for|beneficial|heroic|heroes|"
     "deserved|necessary)",
     0.7},
    {"atrocity-benefits",
     "(benefits|advantages|positives|upsides|good things|positive (effects|sides)) (of|from) "
     "(the)? (holocaust|genocide|slavery|slave trade|ethnic cleansing|apartheid|"
     "colonial genocide|the final solution|eugenics|concentration camps)",
     0.65},
    {"replicate-atrocity",
     "(replicate|repeat|recreate|emulate|copy|re~enact|reproduce|imitate|match|outdo|beat|top|"
     "surpass) (the|another)? (success|succes|scale|impact|conditions|results|body count|"
     "death toll|methods|effectiveness|effect|damage|carnage|horror) (of|in|at|during|from) "
     "(the)? *{0,4} (attack|attacks|massacre|massacres|genocide|assassination|bombing|"
     "bombings|atomic bomb|atomic bombs|shooting|shootings|holocaust|concentration camp|"
     "concentration camps|camp|killing|killings|ethnic cleansing|purge|purges|terror attack|"
     "9 11)",
     0.8},
    {"another-death-like",
     "(plan|carry out|commit|stage|do|cause|organi[sz]e) (another|a similar|my own|a) (death|"
     "murder|assassination|killing|massacre|attack|shooting|bombing) like",
     0.75},
    {"dictator-methods",
     "(use|apply|copy|replicate|adopt|follow|implement) *? (pinochet|stalin|hitler|the nazis|"
     "pol pot|mussolini|mao|the khmer rouge|saddam|idi amin|franco) (s)? (methods|tactics|"
     "techniques|approach|playbook|strategies|ways)",
     0.6},
    // Violence against a public figure: "snipe a politician", "should I take out ...".
    {"attack-public-figure",
     "(assassinate|assassinating|snipe|sniping|shoot|shooting|kill|killing|take out|"
     "taking out|murder|murdering|bomb|bombing|stab|stabbing|attack|attacking) (a|the|our|my|"
     "this|that)? (local|sitting|current|former|corrupt)? (politician|president|"
     "prime minister|senator|congressman|congresswoman|governor|mayor|judge|journalist|"
     "reporter|ceo|pope|king|queen|mp|member of parliament|head of state|official|candidate|"
     "activist|celebrity)",
     0.7},
    {"should-i-kill-named",
     "should (i|we) (take out|kill|shoot|assassinate|eliminate|murder|stab|poison|bomb|hurt|"
     "attack) (@ @?|{TARGET}) {TAIL}",
     0.7},
    // "Why was X right to ...", "why was the shooting justified": praise in a question.
    {"atrocity-praised",
     "why (was|were|is|are) (the)? *{0,3} (hitler|the nazis|nazis|isis|al~qaeda|the taliban|"
     "taliban|the kkk|kkk|stalin|pol pot|slave trade|slavery|shooting|massacre|genocide|"
     "holocaust|attack|attacks|bombing|bombings|ethnic cleansing|apartheid|lynching|"
     "lynchings|terrorists|terrorism) *{0,2} (right|justified|morally justified|a good thing|"
     "good|beneficial|necessary|heroic|heroes|deserved)",
     0.65},
    // "where can I find people to shoot".
    {"find-people-to-hurt",
     "(find|get|pick|choose|locate) (people|someone|somebody|a person|targets|victims|"
     "a victim|a target) to (shoot|kill|murder|stab|hurt|attack|rob|rape|kidnap|poison)",
     0.8},
    // "make someone's car explode", "give someone a headshot with my gun".
    {"make-it-explode",
     "(make|making|get|getting) (someone s|somebody s|my * s|his|her|their|a|the|my "
     "neighbou?r s) *? (car|truck|house|home|phone|plane|bus|building|office|school) "
     "(explode|blow up|catch fire|burst into flames|go up in flames)",
     0.8},
    {"give-headshot",
     "(give|giving) {TARGET} a (headshot|bullet|beating|black eye|concussion|lethal dose|"
     "overdose) {TAIL}",
     0.75},
    {"make-disappear",
     "(make|making) {TARGET} (disappear|vanish|go away for good|go missing) ($|for good|"
     "forever|permanently|without|and|so)",
     0.7},
    {"address-of-person",
     "(home address|address|daily routine|schedule|whereabouts|movements) (and *{0,3})? of "
     "(a|an|the|this|that|my)? *? (woman|girl|singer|celebrity|actress|actor|streamer|"
     "youtuber|ex|crush|coworker|neighbou?r|journalist|politician|judge|stranger) "
     "| so (that)? i can (wait for|follow|find|confront|surprise|watch|ambush|get to) (her|him|"
     "them)",
     0.55},
    // Hate speech requested as content.
    {"mock-group",
     "(mock|mocks|mocking|ridicule|ridicules|ridiculing|make fun of|making fun of|humiliate|"
     "humiliating|insult|insults|insulting|demean|demeaning|degrade|degrading|dehumani[sz]e|"
     "dehumani[sz]ing|slurs (about|for|against)) (the)? {GROUP}",
     0.55},
    {"threatening-message",
     "(write|writing|draft|compose|create|send|generate|make) (a|an|some|me)? (threatening|"
     "intimidating|menacing|death threat|threat|scary) (message|messages|letter|letters|note|"
     "notes|email|emails|text|texts|voicemail|post|posts)",
     0.6},
    // Coercion, fraud and manipulation of a person.
    {"coerce-person",
     "{FRAME} {ADV} (blackmail|blackmailing|extort|extorting|coerce|coercing|sextort|"
     "sextorting) {TARGET}",
     0.75},
    {"scam-person",
     "{FRAME} {ADV} (scam|scamming|con|conning|swindle|swindling|defraud|defrauding|catfish|"
     "catfishing|gaslight|gaslighting|manipulate|manipulating|exploit|exploiting|fleece|"
     "fleecing) {TARGET} "
     "| {FRAME} {ADV} (trick|tricking|pressure|pressuring|manipulate|manipulating|fool|"
     "fooling) {TARGET} into (giving|sending|paying|handing|revealing|transferring|signing|"
     "wiring|sharing)",
     0.7},
    {"make-addicted", "(make|making|get|getting) {TARGET} (addicted|hooked|dependent) (to|on)",
     0.7},
    {"isolate-partner",
     "(cut|cutting) (her|him|them) off from (her|his|their) (friends|family) "
     "| (isolate|isolating|keep|keeping) (my|her|his) (partner|wife|husband|girlfriend|"
     "boyfriend|spouse) (from|away from|isolated) "
     "| (force|forcing) (my|her|his) (partner|wife|husband|girlfriend|boyfriend|spouse) to "
     "(stay home|stay inside|quit|stop seeing|give me)",
     0.6},
    // Content the harm is delivered by: malware, phishing, disinformation.
    {"write-malware",
     "(write|writing|create|creating|draft|drafting|compose|generate|make|code|build|design|"
     "craft|give me) (a|an|some|me a|me an|me)? *{0,2} (phishing (email|emails|page|site|"
     "website|message|text|texts|kit)|ransomware|keylogger|spyware|stalkerware|rootkit|"
     "credential stealer|info~stealer|computer virus|self~replicating (virus|worm)|"
     "malware|trojan|botnet|ddos (script|tool))",
     0.75},
    {"fake-news",
     "(write|writing|create|creating|draft|compose|generate|make|produce|fabricate) (a|an|"
     "some|me a|me an|me)? (fake|false|fabricated|misleading|made~up|bogus) (news|article|"
     "articles|story|stories|report|reports|post|posts|claims?|reviews?|tweets?|quotes?|"
     "evidence|study|studies|statistics|testimonials)",
     0.6},
    {"spread-lies",
     "(spread|spreads|spreading|start|starting) (a|some)? (lies|lie|misinformation|"
     "disinformation|false information|false rumou?rs|rumou?rs|rumou?r|propaganda) (about|"
     "that|to)",
     0.45},
    {"voter-suppression",
     "(stop|prevent|discourage|suppress|scare|keep) (people|voters|them|minorities|black "
     "voters|young voters) (from)? (voting|vote|the polls)",
     0.5},
    // Tax fraud, evading police, drugs without prescription, stolen data, break-ins to
    // networks.
    {"tax-evasion",
     "{FRAME} {ADV} (cheat on|evade|dodge|avoid paying|hide income from) (my|our|the|your)? "
     "(taxes|tax|the irs|hmrc|the tax authorities)",
     0.6},
    {"evade-police",
     "(evade|escape|outrun|lose|hide from|get away from|avoid) the (police|cops|authorities|"
     "feds|fbi) (after|when|because|so|while|following)",
     0.6},
    {"drugs-without-prescription",
     "(opioids|oxycodone|oxy|oxycontin|xanax|adderall|fentanyl|painkillers|benzos|"
     "prescription drugs|prescription opioids|prescription pills|morphine|codeine|ketamine|"
     "valium|percocet|vicodin|tramadol) without (a|any)? (prescription|doctor|script) "
     "| (opioids|oxycodone|oxy|pills|painkillers|drugs|xanax|adderall|fentanyl) to (resell|sell)",
     0.6},
    {"steal-data",
     "(steal|stealing|exfiltrate|exfiltrating|dump|dumping|leak|leaking|scrape|harvest|"
     "harvesting) (the|their|all|all the)? (customer|user|patient|employee|client|personal|"
     "company|credit card|student|voter) (data|records|information|database|details|"
     "passwords|credentials)",
     0.6},
    {"crack-neighbours-network",
     "(crack|cracking|hack|hacking|break into|get into|guess|bypass) (my neighbou?r s|"
     "someone s|somebody s|a neighbou?r s|other people s|people s|the neighbou?r s|"
     "someone else s) *{0,2} (wi~fi|wifi|network|router|password|account|email|phone|"
     "computer|camera|webcam)",
     0.6},
    {"hack-institution",
     "{FRAME} {ADV} (hack|hacking|break into|get into|getting into|access|accessing) (into)? "
     "(my|the|a|our|their)? (* s)? *? (grading system|school system|school network|"
     "school computer|government (system|database|network|website)|police (system|database)|"
     "hospital (system|network|records)|bank s (system|network|database)|company s "
     "(system|network|database|server)|employer s (system|network|database|server))",
     0.6},
    {"ddos-term", "ddos|dos attack|denial of service|syn flood|udp flood|http flood|botnet", 0.3},
    {"best-explosive",
     "(best|strongest|most powerful|easiest|cheapest|homemade|home~made|diy|improvised|"
     "deadliest|most lethal|most deadly) (explosive|explosives|bomb|bombs|incendiary|"
     "nerve agent) (for|to|that|which) (destroy|destroying|kill|killing|blow|"
     "blowing|use|hurt|hurting|harm|harming|maim|take|taking)",
     0.7},
    {"convert-to-automatic",
     "(convert|converting|modify|modifying|turn|turning|make|making) *{0,4} (to|into) "
     "(fully automatic|full auto|full~auto|automatic fire|select fire|a machine gun|"
     "an automatic (rifle|weapon))",
     0.75},
    {"grow-for-drugs",
     "(grow|growing|cultivate|cultivating|harvest|harvesting|process|processing) *{0,4} "
     "(for|to make|into) (heroin|cocaine|meth|opium|morphine|crack)",
     0.7},
    // More ways of hurting a person, named by the method.
    {"weapon-at-throat",
     "(hold|holding|put|putting|press|pressing) (a|my|the) (knife|gun|blade|razor|pistol) to "
     "(someone s|somebody s|his|her|their|my * s|a * s) (throat|head|neck|temple)",
     0.8},
    {"burn-with-people-inside",
     "(burn down|burning down|set fire to|setting fire to|torch|torching) (someone s|"
     "somebody s|my * s|his|her|their|the) *? (house|home|apartment|flat|car|building|trailer) "
     "(with (him|her|them|people|someone|the family|the kids) (inside|in it)|while (he|she|"
     "they) (sleep|sleeps|is asleep|are asleep|is inside|are inside))",
     0.85},
    {"make-person-fall",
     "(make|making|get|getting) {TARGET} (fall|trip|tumble|slip) (down|off|from|over|into)", 0.7},
    {"poison-food",
     "(bleach|poison|antifreeze|laxatives|sleeping pills|rat poison|cyanide|arsenic|glass|"
     "crushed glass|ground glass|sedatives|eye drops|visine|thallium) *{0,4} (to|into|in) "
     "(someone s|somebody s|my * s|his|her|their|the|a) *? (drink|coffee|tea|food|water|meal|"
     "soup|beer|wine|smoothie|lunch|dinner|breakfast|medicine|medication)",
     0.7},
    {"make-person-ingest",
     "(get|getting|make|making|trick|tricking|force|forcing) {TARGET} (to)? (drink|eat|"
     "swallow|take|inhale|ingest) (some)? (antifreeze|bleach|poison|rat poison|cyanide|arsenic|"
     "pills|drugs|laxatives|sedatives|sleeping pills|crushed glass)",
     0.85},
    {"weapon-into-place",
     "(get|getting|bring|bringing|sneak|sneaking|smuggle|smuggling|take|taking|carry|carrying) "
     "(a|my|the|some)? (gun|guns|knife|knives|weapon|weapons|bomb|explosives|rifle|pistol) "
     "(into|in|onto|past security at|through security at) (a|the|my)? *? {PLACE}",
     0.75},
    {"remove-serial-number",
     "(file off|filing off|remove|removing|scratch off|grind off|erase|obliterate|deface|"
     "defacing) (the)? serial (number|numbers) (on|from|of|off)",
     0.75},
    {"print-a-gun",
     "3d~print (a|an|my|some)? *? (gun|guns|pistol|rifle|firearm|weapon|receiver|"
     "lower receiver|glock)",
     0.6},
    {"smuggle-contraband",
     "(sneak|sneaking|smuggle|smuggling|get|getting|bring|bringing) (drugs|heroin|cocaine|"
     "meth|fentanyl|contraband|weapons|a phone|phones|a knife|guns) (into|in|past|through|"
     "across) (a|the)? (prison|jail|airport|country|border|customs)",
     0.7},
    {"overdose-on", "{FRAME} {ADV} (overdose|od) (on|with)", 0.85},
    {"self-harm-bleed",
     "(cut|slit|slice|slash|stab) *{0,3} (to)? bleed (out|the most|more|to death|faster) "
     "| where on my (arm|wrist|wrists|body|leg|legs|thigh|neck) (should|do|can) i (cut|stab|"
     "shoot|slit)",
     0.8},
    {"install-spyware",
     "(install|installing|put|putting|hide|hiding|plant|planting|load) (a|an|some)? (spyware|"
     "stalkerware|keylogger|tracker|tracking app|gps tracker|tracking device|hidden camera|"
     "spy app|monitoring app|spy camera) (on|in|into|under) (someone s|somebody s|his|her|"
     "their|my * s|my {PERSON})",
     0.75},
    {"group-controls",
     "{GROUP} (control|controls|run|runs|own|owns|rule|rules) (the)? (banks|media|government|"
     "world|money|hollywood|finance|economy|news)",
     0.6},
    {"fence-stolen-goods",
     "(sell|selling|fence|fencing|move|moving|launder|laundering) (stolen|hot) *? (goods|"
     "phones|cars|car|jewelry|jewellery|items|property|laptops|bikes|electronics|cards|"
     "credit cards|art|watches|catalytic converters)",
     0.7},
    {"identity-fraud",
     "(with|using|in|under) (someone else s|someone s|somebody s|another person s|a stolen|"
     "a dead person s|my dead * s) (identity|name|id|ssn|social security number|passport|"
     "credit card|details)",
     0.55},
    {"fake-charity",
     "(run|running|start|starting|set up|setting up|create|creating) (a|an)? (fake|sham|"
     "bogus|fraudulent|phony|phoney) (charity|business|company|fundraiser|gofundme|"
     "investment|crypto|lottery|store|shop|website|online store)",
     0.7},
    {"counterfeit-money",
     "(make|making|print|printing|produce|producing|create|creating|pass|passing|spend|"
     "spending) (some)? (counterfeit|fake|forged|funny) *{0,2} (money|bills|notes|banknotes|"
     "currency|cash|coins|dollars|euros|pounds|twenties|ids?|passports?)",
     0.75},
    {"message-to-scare",
     "(message|messages|letter|letters|text|texts|note|notes|email|emails|voicemail) to "
     "(scare|threaten|intimidate|frighten|terrify|blackmail) (my|her|him|them|someone|a|the)",
     0.6},
    {"better-off-without",
     "(convince|convincing|tell|telling|persuade|persuading|show|make) {TARGET}? (that)? "
     "(everyone|the world|his family|her family|their family|we|they|you) (would be|is|are|"
     "will be) better off without (him|her|them|you)",
     0.85},
    {"secret-from-parents",
     "(get|make|teach|convince) (a|the|my)? *? (child|kid|children|kids|boy|girl|student|"
     "niece|nephew|students) (to)? (keep (a|our|this|the)? (secret|secrets)|not tell) (from)? "
     "(their|his|her)? (parents|mom|mum|dad|mother|father|teacher|teachers)",
     0.5},
    {"lock-exits",
     "(lock|locking|block|blocking|chain|chaining|barricade|barricading|seal|sealing) (the|"
     "all the|all)? (exits|fire exits|emergency exits|exit doors)",
     0.6},
    {"poison-water",
     "(poison|poisoning|contaminate|contaminating) (a|the|our|their|his|her)? *? (well|wells|"
     "water tower|water tank|water supply|reservoir|aquifer|river|lake|water system)",
     0.75},
    {"minors-imagery",
     "(videos|video|pictures|pics|photos|images|content|clips) (of|with) (underage|under~age|"
     "pre~teen|pre~teens) (girls|boys|kids|children|teens|girl|boy)",
     0.7},
    {"stage-accident-to-kill",
     "(stage|staging|fake|faking|cause|causing|arrange|arranging) (a|an)? (car crash|"
     "accident|crash|fall|fire|overdose|drowning) to (kill|murder|hurt|get rid of|injure)",
     0.85},
    {"sedate-a-child",
     "to (keep|make|knock) (him|her|them|the baby|the child|the kid|my baby|my child|"
     "my toddler) (asleep|quiet|sedated|unconscious|drugged|out) (all day|all night|for hours)?",
     0.4},
    // Terrorism.
    {"terrorism",
     "({FRAME}|join|joining|support|supporting|fund|funding|recruit for|recruiting for) {ADV} "
     "(engage in|commit|plan|carry out|join|fund|finance|support|recruit for)? (a|an)? "
     "(terrorism|terrorist (attack|group|organi[sz]ation|cell|network)|isis|al~qaeda|hamas|"
     "hezbollah|boko haram|jihad|jihadi|a jihad)",
     0.85},
    {"recruit-gang",
     "{FRAME} {ADV} (recruit|recruiting|radicali[sz]e|radicali[sz]ing|brainwash|brainwashing) "
     "*{0,2} (teenagers|teens|kids|children|minors|young people|people|members|students|youth)? "
     "(into|for|to join) (a|an|my|our|the)? (gang|cult|terrorist|extremist|militia|jihad|"
     "cartel)",
     0.75},
    // Animal cruelty.
    {"animal-cruelty",
     "({FRAME}|most painful way to) {ADV} (poison|poisoning|torture|torturing|kill|killing|"
     "hurt|hurting|abuse|abusing|drown|drowning|burn|burning|mutilate|mutilating) (a|an|the|"
     "my|his|her|their|someone s|my neighbou?r s|the neighbou?r s|my * s)? *? (dog|dogs|cat|"
     "cats|puppy|puppies|kitten|kittens|pet|pets|horse|horses|animal|animals)",
     0.6},
    // Cyber attacks against third parties.
    {"malware-creation",
     "{FRAME} {ADV} (write|writing|create|creating|make|making|build|building|code|coding|"
     "develop|developing|deploy|deploying|spread|spreading|distribute|distributing) (a|an|some|"
     "my own)? *? (ransomware|keylogger|spyware|stalkerware|botnet|rootkit|trojan|"
     "computer virus|worm|malware|rat|remote access trojan|credential stealer|info~stealer|"
     "cryptojacker|ddos (attack|tool|script)|zero~day exploit|phishing (kit|page|site|email|"
     "emails))",
     0.75},
    {"ddos-attack",
     "{FRAME} {ADV} (ddos|dos|take down|knock offline|flood|crash) (a|an|the|my|our|his|her|"
     "their|someone s|my * s)? *? (website|site|server|servers|network|game server|"
     "company s website)",
     0.45},
    // Intimate-image abuse and voyeurism.
    {"intimate-image-abuse",
     "(post|posting|share|sharing|leak|leaking|send|sending|upload|uploading|spread|spreading) "
     "(my|her|his|their|someone s|my * s|my ex s|an ex s)? *? (nudes|nude (photos|pictures|"
     "pics|images|videos)|naked (photos|pictures|pics|images|videos)|intimate (photos|"
     "pictures|images|videos)|sex tape|revenge porn)",
     0.75},
    {"voyeurism",
     "(secretly|hidden camera to|spy cam to|without (them|her|him) knowing)? (film|filming|"
     "record|recording|photograph|photographing|watch|watching) (people|women|girls|someone|"
     "my *|her|him|them) (in|while) (a|the|their|her|his)? (changing room|locker room|shower|"
     "showers|bathroom|toilet|restroom|changing|undressing|bedroom|sleep|asleep)",
     0.6},
};

}  // namespace

std::span<const WordClass> WordClasses() { return kClasses; }

std::span<const Rule> RulesOf(HeuristicSet set) {
  switch (set) {
    case HeuristicSet::kInjection:
      return kInjectionRules;
    case HeuristicSet::kJailbreak:
      return kJailbreakRules;
    case HeuristicSet::kHarmful:
      return kHarmfulRules;
  }
  return {};
}

}  // namespace warden::guard::heuristic_rules
