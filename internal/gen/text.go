package gen

import (
	"unicode"
	"unicode/utf8"
)

// This file holds the hand-written text resources: writing systems, localized
// namespace names, edit-summary phrases and name parts. They are not copied
// from recorded events; they imitate their shape (see the samples in
// /work/shared/data) so that titles, users and comments have realistic
// scripts and lengths.

// script is a writing system: syllables to build words from.
type script struct {
	syl      []string
	extra    []string // language-specific syllables (diacritics), mixed in
	sep      string   // between words
	minSyl   int      // syllables per word
	maxSyl   int
	caps     bool // words start with a capital letter
	rtl      bool
	maxWords int
}

var (
	latinSyl = []string{"ka", "ber", "lin", "mo", "ta", "ri", "son", "del", "va", "ne", "lo", "gar", "mi", "to",
		"ran", "sel", "ma", "ti", "ro", "ven", "ha", "mar", "li", "co", "den", "sa", "vi", "na", "pe", "tor",
		"lu", "fe", "gi", "ste", "wal", "ham", "burg", "ton", "field", "ley", "ia", "io", "es", "an", "el",
		"ar", "or", "us", "en", "bra", "cal", "dor", "fin", "gra", "kor", "lan", "mer", "nor", "pal", "quin",
		"ros", "sta", "tre", "ur", "vel", "wer", "zan", "ch", "ck", "sh", "th"}
	latinScript    = &script{syl: latinSyl, sep: " ", minSyl: 2, maxSyl: 4, caps: true, maxWords: 4}
	cyrillicScript = &script{syl: []string{"ка", "ро", "ни", "ов", "ский", "ва", "ле", "мир", "бер", "до", "на", "го",
		"род", "ин", "ев", "ская", "ко", "та", "ли", "ра", "сла", "ан", "ия", "ск", "ово", "ен", "ма", "се", "ри",
		"ло", "во", "ча", "жи", "пе", "тер", "бу", "рг", "ды", "щи", "ёв", "ц", "ой", "ый", "ая", "вск"},
		sep: " ", minSyl: 2, maxSyl: 4, caps: true, maxWords: 3}
	greekScript = &script{syl: []string{"κα", "λο", "ρι", "στ", "ος", "ης", "νι", "πα", "τη", "μα", "ια", "ου", "θε",
		"δρ", "ά", "ή", "ί", "ών", "ει", "ξ", "ψ", "χα"}, sep: " ", minSyl: 2, maxSyl: 4, caps: true, maxWords: 3}
	hanScript = &script{syl: []string{"中", "国", "人", "大", "学", "日", "本", "电", "影", "音", "乐", "历", "史",
		"地", "理", "城", "市", "河", "北", "京", "上", "海", "天", "山", "水", "火", "花", "月", "星", "龙", "东",
		"西", "南", "新", "华", "民", "主", "社", "会", "科", "技", "文", "化", "体", "育", "足", "球", "公", "司",
		"铁", "路", "站", "村", "镇", "县", "省", "区", "王", "李", "张", "刘", "陈", "杨", "黄", "年", "代", "战",
		"争", "艺", "术", "家", "作", "品", "专", "辑", "歌", "曲", "视", "剧", "列", "表", "線", "車", "賽"},
		minSyl: 2, maxSyl: 4, maxWords: 2}
	japaneseScript = &script{syl: []string{"アニメ", "ゲーム", "シリーズ", "テレビ", "ラジオ", "サッカー", "プロ",
		"スタジオ", "レコード", "ホテル", "駅", "線", "町", "村", "市", "県", "高等学校", "大学", "事件", "戦", "の",
		"一覧", "年", "日本", "東京", "大阪", "京都", "映画", "番組", "選手", "作品", "物語", "神社", "寺", "山",
		"川", "島", "さくら", "みなと", "ひかり", "北", "新"}, minSyl: 1, maxSyl: 3, maxWords: 2}
	hangulScript = &script{syl: []string{"서", "울", "한", "국", "대", "학", "교", "역", "사", "전", "쟁", "영", "화",
		"음", "악", "가", "수", "드", "라", "마", "의", "선", "시", "군", "구", "동", "리", "산", "강", "도", "민",
		"주", "당", "회", "기", "업", "철", "북", "남", "고"}, sep: " ", minSyl: 2, maxSyl: 3, maxWords: 3}
	arabicScript = &script{syl: []string{"ال", "مد", "ين", "كت", "اب", "سل", "ام", "مح", "عر", "ب", "شر", "ق", "ن",
		"هر", "جب", "ل", "قر", "ية", "مس", "جد", "حر", "دو", "لة", "تا", "ري", "خ", "ي", "ة", "وس", "فا"},
		extra: []string{"گا", "پی", "چه", "ران", "ستان", "ی", "ژ", "ک"},
		sep:   " ", minSyl: 2, maxSyl: 4, rtl: true, maxWords: 3}
	hebrewScript = &script{syl: []string{"של", "ום", "יש", "רא", "ל", "מל", "ך", "בי", "ת", "ספ", "ר", "עי", "הר",
		"נה", "ים", "ירו", "של", "ים", "דו", "ד", "מי", "כה"}, sep: " ", minSyl: 2, maxSyl: 4, rtl: true, maxWords: 3}
	devanagariScript = &script{syl: []string{"भा", "र", "त", "दि", "ल्ली", "न", "गर", "रा", "ज", "म", "हा", "सि",
		"ंह", "प्र", "दे", "श", "कि", "ला", "मं", "गां", "धी", "पु", "र", "वि", "द्या", "लय"},
		sep: " ", minSyl: 2, maxSyl: 4, maxWords: 3}
	bengaliScript = &script{syl: []string{"বা", "ং", "লা", "দে", "শ", "ঢা", "কা", "নদী", "গ্রা", "ম", "রা", "জ",
		"পু", "র", "বি", "দ্যা", "লয়"}, sep: " ", minSyl: 2, maxSyl: 4, maxWords: 3}
	thaiScript = &script{syl: []string{"กรุง", "เทพ", "มหา", "นคร", "ไทย", "จังหวัด", "อำเภอ", "ตำบล", "วัด", "แม่",
		"น้ำ", "ภาษา", "ประเทศ", "สถานี", "รถไฟ", "โรงเรียน"}, minSyl: 1, maxSyl: 3, maxWords: 2, sep: " "}
	tamilScript = &script{syl: []string{"தமி", "ழ்", "நா", "டு", "சென்", "னை", "கோ", "யில்", "ஊர்", "மா", "வட்",
		"டம்", "கல்", "லூ", "ரி"}, sep: " ", minSyl: 2, maxSyl: 4, maxWords: 3}
	armenianScript = &script{syl: []string{"հա", "յաս", "տան", "եր", "ևան", "քա", "ղաք", "գյուղ", "մար", "զ", "լեռ",
		"նա", "վան", "ք"}, sep: " ", minSyl: 2, maxSyl: 3, caps: true, maxWords: 3}
	georgianScript = &script{syl: []string{"საქ", "არ", "თვე", "ლო", "თბი", "ლი", "სი", "ქა", "ლა", "ქი", "მუ",
		"ნი", "ცი", "პა", "ლი", "ტე", "ტი"}, sep: " ", minSyl: 2, maxSyl: 4, maxWords: 3}
)

// latinExtra are the language-specific Latin syllables (diacritics).
var latinExtra = map[string][]string{
	"de": {"schön", "müh", "bäck", "straß", "wald", "berg", "dorf", "hof", "über", "ö", "kirch", "bach"},
	"fr": {"té", "lès", "çon", "mé", "châ", "teau", "riv", "ière", "bois", "é", "è", "eau"},
	"es": {"ción", "ía", "ño", "ñe", "ál", "ré", "ú", "jo", "rra", "ll"},
	"pt": {"ão", "ção", "ões", "ê", "lh", "nh", "ú", "ça"},
	"it": {"ello", "ino", "zza", "gli", "ccio", "à", "ò"},
	"pl": {"łó", "żan", "ście", "wski", "cz", "rz", "ą", "ę", "ś", "ń"},
	"cs": {"ře", "čá", "šek", "ův", "ý", "ě", "ní"},
	"tr": {"şe", "ğı", "lı", "çay", "ö", "ü", "ı", "koy"},
	"vi": {"nguy", "ễn", "ươ", "ệ", "ạ", "ng", "ấ", "ời", "ủ"},
	"ro": {"ră", "ști", "ței", "ș", "ț", "ânt"},
	"hu": {"győ", "szé", "ű", "ő", "gy", "sz", "cs", "ár"},
	"sv": {"sjö", "gård", "å", "ä", "ö", "berg", "holm"},
	"no": {"å", "ø", "fjord", "dal", "vik"},
	"da": {"å", "ø", "æ", "holm", "borg"},
	"fi": {"ä", "ö", "kki", "nen", "lä", "järvi"},
	"nl": {"dijk", "hoe", "van", "ij", "oe", "sch"},
	"id": {"ang", "nya", "kan", "pur", "ng", "wa", "jaya"},
	"ms": {"ang", "nya", "kan", "pur", "ng"},
	"eo": {"ĉ", "ĝ", "ŝ", "ŭ", "ujo"},
	"az": {"ə", "ş", "ğ", "ı", "çay"},
	"et": {"õ", "ä", "ü", "maa"},
	"lt": {"ė", "ų", "š", "ž", "ai"},
	"lv": {"ā", "ē", "ī", "š", "ļ"},
	"sk": {"ô", "ä", "č", "ľ"},
	"sl": {"č", "š", "ž"},
	"hr": {"ć", "č", "đ", "š"},
}

// scriptOf returns the writing system of a language code.
func scriptOf(lang string) *script {
	switch lang {
	case "ru", "uk", "be", "be-tarask", "bg", "sr", "mk", "kk", "ky", "tg", "ba", "tt", "cv", "ce", "os",
		"sah", "mn", "mdf", "myv", "udm", "ab", "kv", "koi", "mhr", "mrj", "krc", "lez", "av", "inh", "rue":
		return cyrillicScript
	case "el":
		return greekScript
	case "zh", "zh-yue", "wuu", "gan", "lzh", "zh-classical", "cdo":
		return hanScript
	case "ja":
		return japaneseScript
	case "ko":
		return hangulScript
	case "ar", "arz", "ary", "fa", "ur", "ps", "ckb", "azb", "mzn", "sd", "ug", "glk", "pnb", "ks":
		return arabicScript
	case "he", "yi":
		return hebrewScript
	case "hi", "mr", "ne", "sa", "bh", "mai", "new", "ml", "te", "kn", "gu", "pa", "or":
		return devanagariScript
	case "bn", "as", "bpy":
		return bengaliScript
	case "th":
		return thaiScript
	case "ta":
		return tamilScript
	case "hy", "hyw":
		return armenianScript
	case "ka", "xmf":
		return georgianScript
	}
	if extra, ok := latinExtra[lang]; ok {
		s := *latinScript
		s.extra = extra
		return &s
	}
	return latinScript
}

// appendWord appends one word of sc drawn from h.
func appendWord(b []byte, sc *script, h *hstream, capital bool) []byte {
	n := sc.minSyl
	if sc.maxSyl > sc.minSyl {
		n += h.intn(sc.maxSyl - sc.minSyl + 1)
	}
	start := len(b)
	for i := 0; i < n; i++ {
		if len(sc.extra) > 0 && h.intn(4) == 0 {
			b = append(b, sc.extra[h.intn(len(sc.extra))]...)
		} else {
			b = append(b, sc.syl[h.intn(len(sc.syl))]...)
		}
	}
	if capital && sc.caps {
		b = capitalizeAt(b, start)
	}
	return b
}

// appendWords appends n words of sc separated by the script's separator.
func appendWords(b []byte, sc *script, h *hstream, n int, capital bool) []byte {
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, sc.sep...)
		}
		b = appendWord(b, sc, h, capital || i == 0)
	}
	return b
}

// capitalizeAt upper-cases the rune that starts at b[i], as MediaWiki does
// with the first letter of titles and user names.
func capitalizeAt(b []byte, i int) []byte {
	if i >= len(b) {
		return b
	}
	c := b[i]
	if c >= 'a' && c <= 'z' {
		b[i] = c - 'a' + 'A'
		return b
	}
	if c < utf8.RuneSelf {
		return b
	}
	r, size := utf8.DecodeRune(b[i:])
	u := unicode.ToUpper(r)
	if u == r || utf8.RuneLen(u) != size {
		return b
	}
	utf8.EncodeRune(b[i:], u)
	return b
}

// nsNames are the localized names of the common namespaces.
type nsNames struct {
	talk, user, userTalk, project, file, template, category string
}

var enNS = nsNames{"Talk", "User", "User talk", "Wikipedia", "File", "Template", "Category"}

// localNS maps a Wikipedia language to its namespace names (MediaWiki's
// localisations of the namespaces seen most in the feed).
var localNS = map[string]nsNames{
	"de": {"Diskussion", "Benutzer", "Benutzer Diskussion", "Wikipedia", "Datei", "Vorlage", "Kategorie"},
	"fr": {"Discussion", "Utilisateur", "Discussion utilisateur", "Wikipédia", "Fichier", "Modèle", "Catégorie"},
	"es": {"Discusión", "Usuario", "Usuario discusión", "Wikipedia", "Archivo", "Plantilla", "Categoría"},
	"it": {"Discussione", "Utente", "Discussioni utente", "Wikipedia", "File", "Template", "Categoria"},
	"pt": {"Discussão", "Usuário(a)", "Usuário(a) Discussão", "Wikipédia", "Ficheiro", "Predefinição", "Categoria"},
	"ru": {"Обсуждение", "Участник", "Обсуждение участника", "Википедия", "Файл", "Шаблон", "Категория"},
	"uk": {"Обговорення", "Користувач", "Обговорення користувача", "Вікіпедія", "Файл", "Шаблон", "Категорія"},
	"ja": {"ノート", "利用者", "利用者‐会話", "Wikipedia", "ファイル", "Template", "Category"},
	"zh": {"Talk", "User", "User talk", "Wikipedia", "File", "Template", "Category"},
	"ko": {"토론", "사용자", "사용자토론", "위키백과", "파일", "틀", "분류"},
	"ar": {"نقاش", "مستخدم", "نقاش المستخدم", "ويكيبيديا", "ملف", "قالب", "تصنيف"},
	"fa": {"بحث", "کاربر", "بحث کاربر", "ویکی‌پدیا", "پرونده", "الگو", "رده"},
	"he": {"שיחה", "משתמש", "שיחת משתמש", "ויקיפדיה", "קובץ", "תבנית", "קטגוריה"},
	"id": {"Pembicaraan", "Pengguna", "Pembicaraan Pengguna", "Wikipedia", "Berkas", "Templat", "Kategori"},
	"pl": {"Dyskusja", "Wikipedysta", "Dyskusja wikipedysty", "Wikipedia", "Plik", "Szablon", "Kategoria"},
	"nl": {"Overleg", "Gebruiker", "Overleg gebruiker", "Wikipedia", "Bestand", "Sjabloon", "Categorie"},
	"sv": {"Diskussion", "Användare", "Användardiskussion", "Wikipedia", "Fil", "Mall", "Kategori"},
	"vi": {"Thảo luận", "Thành viên", "Thảo luận Thành viên", "Wikipedia", "Tập tin", "Bản mẫu", "Thể loại"},
	"tr": {"Tartışma", "Kullanıcı", "Kullanıcı mesaj", "Vikipedi", "Dosya", "Şablon", "Kategori"},
	"hu": {"Vita", "Szerkesztő", "Szerkesztővita", "Wikipédia", "Fájl", "Sablon", "Kategória"},
	"cs": {"Diskuse", "Wikipedista", "Diskuse s wikipedistou", "Wikipedie", "Soubor", "Šablona", "Kategorie"},
	"ro": {"Discuție", "Utilizator", "Discuție Utilizator", "Wikipedia", "Fișier", "Format", "Categorie"},
}

// langText holds the phrases of one language.
type langText struct {
	sections  []string
	summaries []string
	bot       []string
	catAdd    string // after "[[:Page]]"
	catRemove string
	created   string // "Created page with '" ... "'"
	createdQ  [2]string
	thanked   string // between the two user names
}

var enText = &langText{
	sections: []string{"History", "Career", "References", "Early life", "Personal life", "Track listing",
		"Geography", "Demographics", "External links", "Filmography", "Reception", "Background", "Legacy",
		"Plot", "Production", "Discography", "See also", "Infobox", "Results", "Squad"},
	summaries: []string{"fix", "typo", "ce", "Added citation", "Updated statistics", "rv vandalism",
		"Added {{short description}}", "clean up", "+image", "link", "copyedit", "Updated infobox",
		"Fixed date format", "Added reference", "minor fixes", "update", "expand", "removed unsourced content",
		"grammar", "Adding local short description", "Importing Wikidata short description"},
	bot: []string{"Bot: Fixing lint errors", "Bot: Removing expired template", "Bot: Updating statistics",
		"Rescuing 1 sources and tagging 0 as dead.) #IABot (v2.0.9.5", "Bot: Fixing double redirect",
		"Bot: Archiving 2 threads (older than 30d)", "Bot: Updating page"},
	catAdd: " added to category", catRemove: " removed from category",
	created: "Created page with ", createdQ: [2]string{"'", "'"}, thanked: " thanked ",
}

var langTexts = map[string]*langText{
	"en": enText,
	"de": {
		sections:  []string{"Geschichte", "Leben", "Werke", "Einzelnachweise", "Weblinks", "Literatur", "Geographie", "Karriere"},
		summaries: []string{"Korrektur", "typo", "Links ergänzt", "+Kategorie", "Tippfehler entfernt", "Belege ergänzt", "erg.", "Aktualisierung", "Formatierung"},
		bot:       []string{"Bot: Signaturnachtrag", "Bot: Archivierung von 2 Abschnitten", "Bot: Korrektur von Weiterleitungen"},
		catAdd:    " zur Kategorie hinzugefügt", catRemove: " aus der Kategorie entfernt",
		created: "Die Seite wurde neu angelegt: ", createdQ: [2]string{"„", "“"}, thanked: " dankte ",
	},
	"fr": {
		sections:  []string{"Biographie", "Histoire", "Notes et références", "Liens externes", "Carrière", "Géographie"},
		summaries: []string{"Correction", "Ajout", "typo", "Mise à jour", "Orthographe", "Lien interne", "Ajout de sources", "wikification"},
		bot:       []string{"Bot : mise à jour", "Bot : correction de liens", "Robot : archivage"},
		catAdd:    " ajoutée à la catégorie", catRemove: " retirée de la catégorie",
		created: "Page créée avec ", createdQ: [2]string{"« ", " »"}, thanked: " a remercié ",
	},
	"es": {
		sections:  []string{"Historia", "Biografía", "Referencias", "Enlaces externos", "Carrera", "Geografía"},
		summaries: []string{"Corrección", "Ampliación", "Añadí referencias", "ortografía", "Actualización", "Mejoras", "enlace"},
		bot:       []string{"Bot: actualización", "Bot: corrección de enlaces", "Bot: normalización de referencias"},
		catAdd:    " añadida a la categoría", catRemove: " eliminada de la categoría",
		created: "Página creada con ", createdQ: [2]string{"«", "»"}, thanked: " agradeció a ",
	},
	"it": {
		sections:  []string{"Storia", "Biografia", "Note", "Collegamenti esterni", "Carriera", "Geografia"},
		summaries: []string{"Correzione", "ampliamento", "fix", "aggiornamento", "wikificazione", "fonti"},
		bot:       []string{"Bot: aggiornamento", "Bot: correzione di collegamenti"},
		catAdd:    " aggiunta alla categoria", catRemove: " rimossa dalla categoria",
		created: "Nuova pagina: ", createdQ: [2]string{"", ""}, thanked: " ha ringraziato ",
	},
	"pt": {
		sections:  []string{"História", "Biografia", "Referências", "Ligações externas", "Carreira"},
		summaries: []string{"Correção", "ampliação", "atualização", "ortografia", "fontes", "formatação"},
		bot:       []string{"Bot: atualização", "Bot: correção de ligações"},
		catAdd:    " adicionada à categoria", catRemove: " removida da categoria",
		created: "Criou a página com ", createdQ: [2]string{"\"", "\""}, thanked: " agradeceu a ",
	},
	"ru": {
		sections:  []string{"История", "Биография", "Примечания", "Ссылки", "Литература", "География", "Карьера"},
		summaries: []string{"оформление", "уточнение", "дополнение", "викификация", "орфография", "источник", "откат"},
		bot:       []string{"Бот: оформление", "Бот: исправление ссылок", "Бот: архивация"},
		catAdd:    " добавлена в категорию", catRemove: " удалена из категории",
		created: "Новая страница: ", createdQ: [2]string{"«", "»"}, thanked: " поблагодарил ",
	},
	"uk": {
		sections:  []string{"Історія", "Біографія", "Примітки", "Посилання", "Географія"},
		summaries: []string{"оформлення", "уточнення", "доповнення", "вікіфікація", "джерела"},
		bot:       []string{"Бот: оформлення", "Бот: виправлення посилань"},
		catAdd:    " додано до категорії", catRemove: " вилучено з категорії",
		created: "Створена сторінка: ", createdQ: [2]string{"«", "»"}, thanked: " подякував ",
	},
	"ja": {
		sections:  []string{"概要", "経歴", "脚注", "外部リンク", "出演", "作品", "歴史"},
		summaries: []string{"誤字修正", "出典追加", "加筆", "リンク修正", "更新", "体裁調整"},
		bot:       []string{"Bot: リンク修正", "Bot: 更新"},
		catAdd:    "をカテゴリに追加", catRemove: "をカテゴリから除去",
		created: "新しいページ: ", createdQ: [2]string{"「", "」"}, thanked: "が感謝を表明: ",
	},
	"zh": {
		sections:  []string{"历史", "生平", "参考文献", "外部链接", "作品", "地理"},
		summaries: []string{"修正错字", "补充来源", "更新", "扩充", "消歧义", "格式"},
		bot:       []string{"机器人：更新", "机器人：修正链接"},
		catAdd:    "已添加至分类", catRemove: "已从分类中删除",
		created: "创建页面，内容为", createdQ: [2]string{"“", "”"}, thanked: "感谢了",
	},
	"ar": {
		sections:  []string{"التاريخ", "مراجع", "وصلات خارجية", "الحياة المبكرة", "الجغرافيا"},
		summaries: []string{"تدقيق إملائي", "إضافة مصدر", "تحديث", "تصحيح", "تنسيق"},
		bot:       []string{"بوت:صيانة المراجع", "بوت: تعريب", "بوت: إضافة تصنيف"},
		catAdd:    " أضيفت للتصنيف", catRemove: " أزيلت من التصنيف",
		created: "أنشأ الصفحة ب", createdQ: [2]string{"'", "'"}, thanked: " شكر ",
	},
	"fa": {
		sections:  []string{"تاریخ", "منابع", "پیوند به بیرون", "زندگی‌نامه"},
		summaries: []string{"ویرایش", "افزودن منبع", "به‌روزرسانی", "اصلاح"},
		bot:       []string{"ربات: اصلاح", "ربات: افزودن رده"},
		catAdd:    " به رده اضافه شد", catRemove: " از رده حذف شد",
		created: "صفحه‌ای تازه حاوی ", createdQ: [2]string{"«", "»"}, thanked: " تشکر کرد از ",
	},
	"id": {
		sections:  []string{"Sejarah", "Referensi", "Pranala luar", "Biografi", "Geografi"},
		summaries: []string{"perbaikan", "pembaruan", "penambahan", "rapikan", "referensi"},
		bot:       []string{"Bot: merapikan", "Removing from [[Kategori:Asteroid]] using [[c:Help:Cat-a-lot|Cat-a-lot]]"},
		catAdd:    " ditambahkan ke kategori", catRemove: " dihapus dari kategori",
		created: "←Membuat halaman berisi ", createdQ: [2]string{"'", "'"}, thanked: " berterima kasih kepada ",
	},
	"pl": {
		sections:  []string{"Historia", "Życiorys", "Przypisy", "Linki zewnętrzne", "Kariera"},
		summaries: []string{"drobne redakcyjne", "poprawa", "aktualizacja", "źródła", "lit."},
		bot:       []string{"Bot: aktualizacja", "Bot: poprawa linków"},
		catAdd:    " dodano do kategorii", catRemove: " usunięto z kategorii",
		created: "Utworzono nową stronę ", createdQ: [2]string{"„", "”"}, thanked: " podziękował ",
	},
	"nl": {
		sections:  []string{"Geschiedenis", "Biografie", "Bronnen", "Externe links"},
		summaries: []string{"correctie", "aanvulling", "bijgewerkt", "spelling"},
		bot:       []string{"Bot: bijwerken"},
		catAdd:    " toegevoegd aan categorie", catRemove: " verwijderd uit categorie",
		created: "Nieuwe pagina aangemaakt met ", createdQ: [2]string{"'", "'"}, thanked: " bedankte ",
	},
	"ko": {
		sections:  []string{"역사", "생애", "각주", "외부 링크", "작품"},
		summaries: []string{"오타 수정", "출처 추가", "내용 추가", "갱신"},
		bot:       []string{"봇: 링크 수정"},
		catAdd:    " 문서가 분류에 추가됨", catRemove: " 문서가 분류에서 제거됨",
		created: "새 문서: ", createdQ: [2]string{"", ""}, thanked: " 님이 감사를 표시: ",
	},
	"vi": {
		sections:  []string{"Lịch sử", "Tiểu sử", "Tham khảo", "Liên kết ngoài"},
		summaries: []string{"sửa lỗi", "bổ sung", "cập nhật", "chú thích"},
		bot:       []string{"Bot: cập nhật", "Bot: sửa liên kết"},
		catAdd:    " đã được thêm vào thể loại", catRemove: " đã bị xóa khỏi thể loại",
		created: "Tạo trang mới với nội dung ", createdQ: [2]string{"“", "”"}, thanked: " đã cảm ơn ",
	},
	"ms": {
		sections:  []string{"Sejarah", "Rujukan", "Pautan luar"},
		summaries: []string{"pembetulan", "kemas kini", "tambahan"},
		bot:       []string{"Bot: kemas kini"},
		catAdd:    " ditambahkan kepada kategori", catRemove: " dibuang daripada kategori",
		created: "Mencipta laman baru dengan ", createdQ: [2]string{"'", "'"}, thanked: " berterima kasih kepada ",
	},
}

// textFor returns the phrases of lang, English where there is no translation.
func textFor(lang string) *langText {
	if t, ok := langTexts[lang]; ok {
		return t
	}
	return enText
}

// Name parts for registered users. Synthetic: no real account is named.
var (
	firstNames = []string{"Anna", "Jonas", "Maria", "Pierre", "Carlos", "Sofia", "Ahmed", "Yuki", "Lars", "Elena",
		"Tomasz", "Giulia", "Hans", "Olga", "Ravi", "Mei", "David", "Fatima", "Kenji", "Ana", "Luca", "Emma",
		"Noah", "Ivan", "Pablo", "Sara", "Mateo", "Nina", "Omar", "Leila", "Jan", "Eva", "Mark", "Chen", "Aisha",
		"Pedro", "Ingrid", "Tariq", "Marta", "Felix"}
	lastNames = []string{"Müller", "García", "Rossi", "Nowak", "Smith", "Dubois", "Silva", "Kowalski", "Jansen",
		"Novák", "Yılmaz", "Nguyen", "Kim", "Tanaka", "Ivanov", "Hansen", "Costa", "Schmidt", "Moreau", "Bianchi",
		"Andersson", "Horvat", "Ferreira", "Okafor", "Kaya", "Lindqvist", "Popescu", "Sato", "Singh", "Weber"}
	botSuffixes = []string{"Bot", "bot", "-bot", "BOT", "Bot", "Bot"}
)

// Projects' names for namespace 4 outside Wikipedia.
var projectNS = map[family]string{
	famWiktionary: "Wiktionary", famWikisource: "Wikisource", famWikiquote: "Wikiquote",
	famWikibooks: "Wikibooks", famWikinews: "Wikinews", famWikiversity: "Wikiversity",
	famWikivoyage: "Wikivoyage", famCommons: "Commons", famWikidata: "Wikidata",
	famMediaWiki: "Project", famWikimedia: "Meta",
}

// Commons file extensions, roughly in the proportion uploads have them.
var fileExts = []string{".jpg", ".jpg", ".jpg", ".jpg", ".jpg", ".jpg", ".JPG", ".JPG", ".png", ".png",
	".svg", ".pdf", ".tif", ".webm", ".ogg", ".wav", ".jpeg", ".gif"}

// Category name patterns on Commons.
var commonsCatWords = []string{" in ", " of ", " by ", " from ", " at "}

var termLangs = []string{"en", "de", "fr", "es", "it", "nl", "ru", "ja", "zh", "ar", "pl", "sv", "uk", "pt", "ca", "he"}

// Descriptions (English) that Wikidata bots and editors add most.
var descriptions = []string{"scientific article published in", "species of insect", "human settlement in",
	"village in", "painting by", "family name", "Wikimedia category", "Wikimedia disambiguation page",
	"asteroid", "galaxy in the constellation", "American politician", "football player", "album by",
	"chemical compound", "street in", "river in", "church building in", "taxon"}

// Commons structured-data and tool summaries.
var commonsSummaries = []string{
	"Adding structured data: copyright",
	"automatically modify [[Commons:Structured data|structured data]] based on file information: meta",
	"add [[Commons:Structured data|SDC]] based on metadata from Flickr. Task #2",
	"Adding structured data to this newly uploaded geograph.org.uk image",
	"Adding [[Commons:Structured data|structured data]]: depicts",
}

var uploadSummaries = []string{"Uploaded own work with UploadWizard", "Uploaded a work from Flickr with UploadWizard",
	"Transferred from Flickr via #flickr2commons", "pattypan 22.03", "User created page with UploadWizard",
	"Cropped 5 % horizontally, 5 % vertically using [[Commons:CropTool|CropTool]] with precise mode."}

var deleteReasons = []string{"[[WP:CSD#G11|G11]]: Unambiguous advertising or promotion",
	"[[WP:CSD#A7|A7]]: No credible indication of importance", "Copyright violation",
	"[[Commons:Deletion requests|Deletion request]]: Out of scope", "Spam", "Vandalism",
	"Housekeeping", "Test page"}

var blockReasons = []string{"Vandalism", "[[WP:Spam|Spam]] / advertising-only account", "Long-term abuse",
	"Disruptive editing", "{{anonblock}}"}
