// Tables derived from the recorded data in /work/shared/data (see PROVENANCE.md there). The domain
// table and the quantile tables were produced by a throwaway script that read the files named in each
// comment; the namespace tables at the end were counted from the same files. Re-derive rather than
// hand-tune them.

package gen

// quantileGrid is the probability of each point of a quantiles table.
var quantileGrid = [...]float64{0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 1}

// quantiles is an empirical distribution: the value at each point of quantileGrid.
type quantiles [len(quantileGrid)]int64

// Observed overall mix in the calibration set (24189 events: camilomozov_wikistream_2023-01-24_25
// 18,935 + kirajano GEO_2021-10 5,259, minus 5 events of numeric type "142"):
// edit 12816, new 1358, log 1351, categorize 8664;
// bot 9192; IP users 1214.
const (
	calibEvents     = 24189
	calibEdit       = 12816
	calibNew        = 1358
	calibLog        = 1351
	calibCategorize = 8664
	calibBot        = 9192
	calibIP         = 1214
)

// blankRateWiki is the share of wikipedia edits that blank a page (length.new == 0 < length.old):
// 27 of 24809 edits in kirajano EN_DE.
const blankRateWiki = 0.00109

// domainTable is the all-wiki mix. Source: camilomozov_wikistream_2023-01-24_25_reconstructed (18,935
// events, 141 wikis) plus kirajano_wiki-streams_es_RECENTCHANGE_GEO_2021-10 (5,259 events, 70 wikis):
// 162 domains. n is the number of events seen. types (edit, new, log, categorize), bot and anon
// (IP editors) are shares smoothed toward the domain family's pooled share with a pseudo-count of 10
// (20 for anon), so that domains seen a handful of times get plausible values. patrol says whether
// edits (patrolRC), only page creations (patrolNew) or nothing (patrolNone) carried "patrolled";
// domains with no evidence default to patrolRC (MediaWiki's default). rcID and revID are the highest
// rc id and revision id seen for the domain in any file (including the 2024-2026 raw captures);
// the generator continues from there.
var domainTable = []domainStat{
	{"commons.wikimedia.org", "commonswiki", 5273, [4]float64{0.384, 0.006, 0.026, 0.584}, 0.518, 0.002, patrolRC, 3213449343, 1172275265},
	{"www.wikidata.org", "wikidatawiki", 4919, [4]float64{0.89, 0.096, 0.014, 0}, 0.229, 0.015, patrolRC, 2543471309, 2467166268},
	{"en.wikipedia.org", "enwiki", 4394, [4]float64{0.45, 0.078, 0.106, 0.366}, 0.169, 0.087, patrolNew, 2000103914, 1340597637},
	{"id.wikipedia.org", "idwiki", 2257, [4]float64{0.188, 0, 0.002, 0.81}, 0.985, 0.002, patrolRC, 56026901, 22780865},
	{"ar.wikipedia.org", "arwiki", 1069, [4]float64{0.751, 0, 0.021, 0.228}, 0.953, 0.008, patrolNone, 313322432, 68509768},
	{"fr.wikipedia.org", "frwiki", 590, [4]float64{0.633, 0.017, 0.06, 0.29}, 0.157, 0.104, patrolRC, 568365911, 233641093},
	{"es.wikipedia.org", "eswiki", 505, [4]float64{0.662, 0.03, 0.12, 0.188}, 0.215, 0.241, patrolNew, 343969171, 172249491},
	{"ru.wikipedia.org", "ruwiki", 493, [4]float64{0.473, 0.031, 0.284, 0.213}, 0.312, 0.15, patrolNone, 529860724, 144870310},
	{"de.wikipedia.org", "dewiki", 477, [4]float64{0.708, 0.023, 0.078, 0.191}, 0.119, 0.06, patrolNew, 377318254, 264770314},
	{"zh.wikipedia.org", "zhwiki", 305, [4]float64{0.625, 0.017, 0.098, 0.26}, 0.12, 0.165, patrolRC, 185109301, 87098252},
	{"it.wikipedia.org", "itwiki", 296, [4]float64{0.63, 0.063, 0.071, 0.235}, 0.098, 0.186, patrolRC, 350843021, 144745613},
	{"en.wiktionary.org", "enwiktionary", 240, [4]float64{0.25, 0.105, 0.052, 0.593}, 0.012, 0.103, patrolRC, 126093694, 82608727},
	{"ja.wikipedia.org", "jawiki", 208, [4]float64{0.724, 0.02, 0.086, 0.169}, 0.082, 0.275, patrolNew, 167885599, 104718123},
	{"ro.wikipedia.org", "rowiki", 145, [4]float64{0.083, 0.241, 0.121, 0.554}, 0.87, 0.01, patrolRC, 143389356, 15408388},
	{"he.wikisource.org", "hewikisource", 142, [4]float64{0.016, 0.949, 0.007, 0.029}, 0.954, 0.005, patrolNew, 2793158, 2609775},
	{"ko.wikipedia.org", "kowiki", 123, [4]float64{0.585, 0.026, 0.096, 0.293}, 0.059, 0.194, patrolNew, 68504332, 34234105},
	{"pt.wikipedia.org", "ptwiki", 118, [4]float64{0.585, 0.042, 0.1, 0.273}, 0.03, 0.02, patrolRC, 141474018, 71829602},
	{"ru.wikiquote.org", "ruwikiquote", 115, [4]float64{0.028, 0.017, 0.92, 0.035}, 0.937, 0.006, patrolNone, 17543640, 396381},
	{"hu.wiktionary.org", "huwiktionary", 114, [4]float64{0.02, 0.243, 0.008, 0.729}, 0.025, 0.006, patrolNew, 4093553, 3007873},
	{"vi.wikipedia.org", "viwiki", 108, [4]float64{0.499, 0.021, 0.185, 0.296}, 0.033, 0.279, patrolRC, 138647091, 69604169},
	{"pl.wikipedia.org", "plwiki", 107, [4]float64{0.725, 0.029, 0.092, 0.153}, 0.127, 0.226, patrolNew, 131510029, 69416826},
	{"ru.wikinews.org", "ruwikinews", 97, [4]float64{0.051, 0.17, 0.019, 0.76}, 0.851, 0.007, patrolNew, 68618596, 16729205},
	{"ast.wikipedia.org", "astwiki", 86, [4]float64{0.561, 0.004, 0.008, 0.427}, 0.895, 0.016, patrolNone, 13453964, 3915700},
	{"tr.wikipedia.org", "trwiki", 83, [4]float64{0.514, 0.026, 0.138, 0.322}, 0.096, 0.24, patrolNew, 74816522, 34191069},
	{"hy.wikipedia.org", "hywiki", 82, [4]float64{0.411, 0.102, 0.02, 0.467}, 0.064, 0.017, patrolNew, 81402896, 10143394},
	{"sv.wikipedia.org", "svwiki", 75, [4]float64{0.551, 0.017, 0.056, 0.376}, 0.046, 0.06, patrolNew, 333820793, 51801043},
	{"fr.wiktionary.org", "frwiktionary", 74, [4]float64{0.375, 0.109, 0.012, 0.504}, 0.453, 0.019, patrolRC, 60034783, 36380983},
	{"nl.wiktionary.org", "nlwiktionary", 73, [4]float64{0.078, 0.123, 0.012, 0.787}, 0.037, 0.008, patrolNew, 8484475, 4610646},
	{"az.wikipedia.org", "azwiki", 71, [4]float64{0.344, 0.042, 0.059, 0.555}, 0.061, 0.03, patrolRC, 22137456, 8122406},
	{"pl.wiktionary.org", "plwiktionary", 71, [4]float64{0.771, 0.052, 0.025, 0.152}, 0.717, 0.009, patrolNew, 9489126, 8061804},
	{"zh.wiktionary.org", "zhwiktionary", 70, [4]float64{0.043, 0.115, 0.012, 0.829}, 0.038, 0.009, patrolRC, 13022077, 7475555},
	{"lmo.wikipedia.org", "lmowiki", 68, [4]float64{0.344, 0.005, 0.087, 0.563}, 0.896, 0.019, patrolNone, 3754547, 1148238},
	{"uk.wikipedia.org", "ukwiki", 64, [4]float64{0.633, 0.033, 0.024, 0.31}, 0.134, 0.163, patrolNone, 171221953, 47558135},
	{"fr.wikisource.org", "frwikisource", 61, [4]float64{0.331, 0.129, 0.028, 0.512}, 0.043, 0.01, patrolRC, 19464451, 12977107},
	{"nl.wikipedia.org", "nlwiki", 57, [4]float64{0.744, 0.036, 0.086, 0.134}, 0.058, 0.152, patrolRC, 142978582, 63716412},
	{"fa.wikipedia.org", "fawiki", 56, [4]float64{0.816, 0.006, 0.012, 0.166}, 0.423, 0.075, patrolRC, 81989313, 36437254},
	{"fi.wikipedia.org", "fiwiki", 51, [4]float64{0.407, 0.056, 0.111, 0.425}, 0.097, 0.038, patrolRC, 53448919, 23210107},
	{"no.wikipedia.org", "nowiki", 51, [4]float64{0.456, 0.023, 0.21, 0.311}, 0.08, 0.038, patrolRC, 88329569, 23258633},
	{"www.mediawiki.org", "mediawikiwiki", 51, [4]float64{0.467, 0.446, 0.016, 0.071}, 0.05, 0.025, patrolRC, 9740069, 7604709},
	{"eo.wikipedia.org", "eowiki", 46, [4]float64{0.729, 0.008, 0.014, 0.249}, 0.57, 0.026, patrolNone, 31305872, 7903744},
	{"pl.wikisource.org", "plwikisource", 45, [4]float64{0.172, 0.276, 0.018, 0.534}, 0.074, 0.012, patrolNew, 5736514, 3342833},
	{"meta.wikimedia.org", "metawiki", 37, [4]float64{0.542, 0.238, 0.128, 0.092}, 0.087, 0.049, patrolRC, 33142380, 27728613},
	{"hu.wikipedia.org", "huwiki", 36, [4]float64{0.757, 0.009, 0.126, 0.108}, 0.172, 0.066, patrolNone, 112664775, 27588205},
	{"he.wikipedia.org", "hewiki", 34, [4]float64{0.633, 0.055, 0.086, 0.226}, 0.18, 0.106, patrolRC, 84082561, 40964460},
	{"cs.wikipedia.org", "cswiki", 32, [4]float64{0.71, 0.034, 0.043, 0.213}, 0.117, 0.129, patrolRC, 54101019, 22381058},
	{"th.wikiquote.org", "", 32, [4]float64{0.44, 0.052, 0.024, 0.484}, 0.073, 0.015, patrolNone, 90509, 43845},
	{"bg.wikipedia.org", "bgwiki", 29, [4]float64{0.662, 0.062, 0.02, 0.255}, 0.1, 0.096, patrolRC, 57639542, 12832871},
	{"bn.wikipedia.org", "bnwiki", 28, [4]float64{0.338, 0.169, 0.047, 0.446}, 0.182, 0.119, patrolRC, 13856349, 6441542},
	{"simple.wikipedia.org", "simplewiki", 28, [4]float64{0.39, 0.09, 0.1, 0.42}, 0.103, 0.327, patrolNew, 19884669, 8655366},
	{"de.wiktionary.org", "dewiktionary", 26, [4]float64{0.402, 0.088, 0.028, 0.482}, 0.447, 0.017, patrolRC, 15304443, 9718183},
	{"de.wikisource.org", "dewikisource", 25, [4]float64{0.214, 0.148, 0.057, 0.581}, 0.117, 0.017, patrolNew, 6879879, 4423564},
	{"nn.wikipedia.org", "nnwiki", 25, [4]float64{0.167, 0.098, 0.023, 0.713}, 0.111, 0.038, patrolRC, 14054413, 3458286},
	{"sr.wikipedia.org", "srwiki", 25, [4]float64{0.595, 0.041, 0.023, 0.341}, 0.197, 0.082, patrolRC, 48665879, 25538044},
	{"lt.wikipedia.org", "ltwiki", 23, [4]float64{0.631, 0.043, 0.024, 0.301}, 0.118, 0.086, patrolNew, 13845645, 6848708},
	{"th.wikipedia.org", "thwiki", 21, [4]float64{0.608, 0.078, 0.026, 0.289}, 0.287, 0.164, patrolNew, 22983451, 11917582},
	{"th.wiktionary.org", "thwiktionary", 17, [4]float64{0.092, 0.155, 0.037, 0.716}, 0.114, 0.021, patrolNew, 2871322, 1606413},
	{"ca.wikipedia.org", "cawiki", 16, [4]float64{0.686, 0.016, 0.069, 0.229}, 0.265, 0.048, patrolRC, 115531374, 31233084},
	{"sl.wikipedia.org", "slwiki", 16, [4]float64{0.571, 0.055, 0.031, 0.344}, 0.15, 0.159, patrolNew, 25349535, 5891905},
	{"lv.wikipedia.org", "lvwiki", 14, [4]float64{0.493, 0.018, 0.075, 0.414}, 0.163, 0.197, patrolRC, 12049050, 3773196},
	{"nl.wikinews.org", "", 14, [4]float64{0.228, 0.174, 0.042, 0.556}, 0.128, 0.023, patrolNew, 268145, 150328},
	{"ta.wikipedia.org", "tawiki", 14, [4]float64{0.451, 0.018, 0.033, 0.498}, 0.163, 0.05, patrolNone, 9854655, 4139753},
	{"en.wikisource.org", "enwikisource", 13, [4]float64{0.325, 0.225, 0.087, 0.363}, 0.221, 0.175, patrolRC, 21789826, 12944763},
	{"eu.wikipedia.org", "euwiki", 13, [4]float64{0.688, 0.105, 0.035, 0.172}, 0.257, 0.082, patrolNew, 42679351, 9187265},
	{"el.wikipedia.org", "elwiki", 12, [4]float64{0.583, 0.019, 0.036, 0.361}, 0.177, 0.116, patrolNone, 38638971, 9880747},
	{"en.wikiversity.org", "enwikiversity", 12, [4]float64{0.613, 0.099, 0.091, 0.197}, 0.14, 0.118, patrolNone, 3141284, 2470148},
	{"ru.wiktionary.org", "ruwiktionary", 11, [4]float64{0.356, 0.199, 0.095, 0.35}, 0.385, 0.057, patrolNew, 26957982, 12777213},
	{"sh.wikipedia.org", "shwiki", 11, [4]float64{0.754, 0.02, 0.038, 0.188}, 0.662, 0.055, patrolRC, 52054868, 41407063},
	{"ml.wikipedia.org", "mlwiki", 10, [4]float64{0.392, 0.171, 0.04, 0.397}, 0.195, 0.057, patrolRC, 6585488, 3845872},
	{"en.wikibooks.org", "enwikibooks", 9, [4]float64{0.394, 0.22, 0.105, 0.281}, 0.162, 0.027, patrolNew, 4433143, 4232325},
	{"lij.wikisource.org", "lijwikisource", 9, [4]float64{0.13, 0.273, 0.052, 0.544}, 0.162, 0.027, patrolNew, 41464, 43337},
	{"it.wikisource.org", "itwikisource", 8, [4]float64{0.249, 0.177, 0.055, 0.519}, 0.171, 0.028, patrolNew, 7963520, 3109168},
	{"mdf.wikipedia.org", "mdfwiki", 8, [4]float64{0.269, 0.079, 0.044, 0.608}, 0.217, 0.061, patrolNew, 451705, 67255},
	{"ms.wikipedia.org", "mswiki", 8, [4]float64{0.546, 0.024, 0.155, 0.275}, 0.328, 0.204, patrolNone, 17531464, 5766240},
	{"ru.wikisource.org", "", 8, [4]float64{0.415, 0.121, 0.111, 0.352}, 0.171, 0.028, patrolNone, 13542151, 4162216},
	{"sq.wikipedia.org", "sqwiki", 8, [4]float64{0.602, 0.079, 0.044, 0.275}, 0.383, 0.061, patrolNone, 6328335, 2515467},
	{"sv.wikisource.org", "svwikisource", 8, [4]float64{0.36, 0.177, 0.055, 0.408}, 0.171, 0.099, patrolNew, 755836, 517779},
	{"ur.wikipedia.org", "urwiki", 8, [4]float64{0.435, 0.135, 0.044, 0.386}, 0.217, 0.097, patrolNew, 30782254, 8585441},
	{"da.wikipedia.org", "dawiki", 7, [4]float64{0.578, 0.084, 0.106, 0.232}, 0.229, 0.1, patrolRC, 41098460, 11388753},
	{"en.wikivoyage.org", "enwikivoyage", 7, [4]float64{0.499, 0.187, 0.059, 0.256}, 0.181, 0.029, patrolRC, 6256289, 4603999},
	{"kn.wikipedia.org", "knwiki", 7, [4]float64{0.343, 0.025, 0.4, 0.232}, 0.229, 0.286, patrolNone, 2144643, 1147840},
	{"species.wikimedia.org", "specieswiki", 7, [4]float64{0.381, 0.187, 0.059, 0.373}, 0.181, 0.029, patrolRC, 14149939, 9102171},
	{"zh-yue.wikipedia.org", "", 7, [4]float64{0.52, 0.084, 0.047, 0.35}, 0.229, 0.137, patrolNew, 5392674, 1712062},
	{"et.wikipedia.org", "etwiki", 6, [4]float64{0.615, 0.027, 0.05, 0.309}, 0.244, 0.066, patrolNone, 15589187, 6869289},
	{"fi.wiktionary.org", "fiwiktionary", 6, [4]float64{0.155, 0.199, 0.062, 0.584}, 0.192, 0.261, patrolNew, 5259431, 4393131},
	{"frr.wikipedia.org", "frrwiki", 6, [4]float64{0.427, 0.089, 0.05, 0.434}, 0.369, 0.066, patrolNew, 974998, 242206},
	{"gl.wikipedia.org", "glwiki", 6, [4]float64{0.677, 0.027, 0.05, 0.247}, 0.244, 0.066, patrolNone, 20331933, 6293901},
	{"incubator.wikimedia.org", "incubatorwiki", 6, [4]float64{0.28, 0.261, 0.062, 0.397}, 0.192, 0.03, patrolNew, 7437879, 6639902},
	{"te.wikipedia.org", "tewiki", 6, [4]float64{0.427, 0.152, 0.05, 0.372}, 0.244, 0.066, patrolNew, 5859441, 3815136},
	{"vi.wiktionary.org", "", 6, [4]float64{0.217, 0.136, 0.125, 0.522}, 0.192, 0.03, patrolNone, 2106754, 2027627},
	{"ja.wiktionary.org", "jawiktionary", 5, [4]float64{0.232, 0.212, 0.066, 0.49}, 0.205, 0.031, patrolRC, 2732463, 1737228},
	{"sk.wikipedia.org", "skwiki", 5, [4]float64{0.589, 0.028, 0.053, 0.33}, 0.26, 0.108, patrolNone, 19051448, 7527889},
	{"ba.wikipedia.org", "bawiki", 4, [4]float64{0.56, 0.03, 0.057, 0.353}, 0.279, 0.071, patrolNone, 10579121, 1210724},
	{"de.wikivoyage.org", "dewikivoyage", 4, [4]float64{0.463, 0.156, 0.071, 0.31}, 0.22, 0.032, patrolRC, 7462922, 1515477},
	{"es.wiktionary.org", "eswiktionary", 4, [4]float64{0.391, 0.156, 0.143, 0.31}, 0.22, 0.116, patrolRC, 5917609, 5098022},
	{"ky.wikipedia.org", "", 4, [4]float64{0.417, 0.102, 0.057, 0.425}, 0.279, 0.155, patrolNew, 1948121, 390818},
	{"tr.wikiquote.org", "trwikiquote", 4, [4]float64{0.248, 0.227, 0.071, 0.453}, 0.22, 0.032, patrolNew, 539764, 208261},
	{"bn.wikiquote.org", "bnwikiquote", 3, [4]float64{0.421, 0.168, 0.077, 0.334}, 0.237, 0.034, patrolNone, 32098, 18487},
	{"es.wikinews.org", "", 3, [4]float64{0.421, 0.168, 0.077, 0.334}, 0.237, 0.034, patrolNone, 1057488, 694132},
	{"hi.wikiquote.org", "hiwikiquote", 3, [4]float64{0.267, 0.322, 0.077, 0.334}, 0.237, 0.034, patrolNew, 36039, 25594},
	{"hr.wikipedia.org", "hrwiki", 3, [4]float64{0.603, 0.033, 0.061, 0.304}, 0.3, 0.074, patrolRC, 13035123, 6574491},
	{"it.wikivoyage.org", "itwikivoyage", 3, [4]float64{0.421, 0.168, 0.077, 0.334}, 0.237, 0.034, patrolRC, 2239985, 776832},
	{"kk.wikipedia.org", "kkwiki", 3, [4]float64{0.449, 0.033, 0.215, 0.304}, 0.3, 0.161, patrolNone, 9384123, 3121921},
	{"pl.wikibooks.org", "plwikibooks", 3, [4]float64{0.191, 0.168, 0.307, 0.334}, 0.237, 0.034, patrolRC, 1000000, 500000},
	{"ru.wikibooks.org", "ruwikibooks", 3, [4]float64{0.421, 0.168, 0.077, 0.334}, 0.237, 0.077, patrolNone, 334364, 224560},
	{"uz.wikipedia.org", "uzwiki", 3, [4]float64{0.603, 0.033, 0.061, 0.304}, 0.377, 0.074, patrolNone, 12056039, 3562825},
	{"an.wikipedia.org", "anwiki", 2, [4]float64{0.569, 0.035, 0.066, 0.329}, 0.325, 0.078, patrolNone, 4603900, 1894564},
	{"az.wikiquote.org", "azwikiquote", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.257, 0.035, patrolNone, 360173, 148077},
	{"az.wikisource.org", "azwikisource", 2, [4]float64{0.206, 0.265, 0.083, 0.445}, 0.257, 0.035, patrolNew, 273187, 79978},
	{"cs.wiktionary.org", "", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.257, 0.126, patrolNone, 1620643, 1184452},
	{"de.wikiversity.org", "dewikiversity", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.257, 0.035, patrolRC, 1075639, 880485},
	{"dk.wikimedia.org", "dkwikimedia", 2, [4]float64{0.206, 0.182, 0.25, 0.362}, 0.257, 0.126, patrolRC, 1000000, 500000},
	{"es.wikisource.org", "eswikisource", 2, [4]float64{0.206, 0.265, 0.083, 0.445}, 0.257, 0.035, patrolNew, 2046328, 1287959},
	{"et.wiktionary.org", "", 2, [4]float64{0.206, 0.265, 0.083, 0.445}, 0.257, 0.035, patrolNew, 1171975, 1123226},
	{"fr.wikiquote.org", "", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.257, 0.035, patrolNone, 754905, 332226},
	{"hi.wikipedia.org", "hiwiki", 2, [4]float64{0.569, 0.035, 0.066, 0.329}, 0.325, 0.078, patrolRC, 9794539, 5751907},
	{"ja.wikiquote.org", "", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.257, 0.035, patrolNone, 141156, 36003},
	{"ka.wikipedia.org", "kawiki", 2, [4]float64{0.486, 0.035, 0.15, 0.329}, 0.325, 0.078, patrolNone, 11918647, 4467640},
	{"km.wikipedia.org", "kmwiki", 2, [4]float64{0.569, 0.035, 0.066, 0.329}, 0.325, 0.078, patrolNone, 762356, 290849},
	{"sa.wikisource.org", "sawikisource", 2, [4]float64{0.206, 0.265, 0.083, 0.445}, 0.257, 0.035, patrolNew, 563184, 366346},
	{"sn.wikipedia.org", "snwiki", 2, [4]float64{0.569, 0.035, 0.066, 0.329}, 0.325, 0.078, patrolNone, 375554, 104360},
	{"sv.wiktionary.org", "", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.423, 0.035, patrolNone, 4530323, 3622700},
	{"uk.wikisource.org", "ukwikisource", 2, [4]float64{0.206, 0.265, 0.083, 0.445}, 0.257, 0.035, patrolNew, 1292951, 554120},
	{"vi.wikivoyage.org", "", 2, [4]float64{0.206, 0.349, 0.083, 0.362}, 0.257, 0.035, patrolNew, 419697, 101995},
	{"yo.wikipedia.org", "yowiki", 2, [4]float64{0.486, 0.035, 0.066, 0.412}, 0.325, 0.078, patrolNone, 2272759, 564783},
	{"zh.wikisource.org", "", 2, [4]float64{0.373, 0.182, 0.083, 0.362}, 0.34, 0.035, patrolNone, 4623059, 2081339},
	{"ab.wikipedia.org", "abwiki", 1, [4]float64{0.439, 0.039, 0.163, 0.359}, 0.355, 0.082, patrolRC, 604703, 241881},
	{"af.wikipedia.org", "afwiki", 1, [4]float64{0.439, 0.039, 0.163, 0.359}, 0.355, 0.082, patrolRC, 8667849, 3467139},
	{"als.wikipedia.org", "alswiki", 1, [4]float64{0.439, 0.039, 0.163, 0.359}, 0.355, 0.082, patrolRC, 2716085, 1086434},
	{"arz.wikipedia.org", "arzwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.129, patrolNone, 42665843, 7613663},
	{"as.wikisource.org", "aswikisource", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 391733, 171613},
	{"be-tarask.wikipedia.org", "be_x_oldwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 9545161, 2360139},
	{"be.wikipedia.org", "bewiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 56080220, 4322965},
	{"be.wikisource.org", "bewikisource", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 234254, 116399},
	{"bs.wikipedia.org", "bswiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.129, patrolNone, 9145246, 3665215},
	{"el.wiktionary.org", "elwiktionary", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.085, patrolNone, 8292816, 5652826},
	{"en.wikiquote.org", "enwikiquote", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.085, patrolNone, 5271303, 3239228},
	{"eo.wikisource.org", "eowikisource", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 165094, 66488},
	{"es.wikibooks.org", "eswikibooks", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.085, patrolNone, 533564, 408878},
	{"fi.wikivoyage.org", "", 1, [4]float64{0.225, 0.198, 0.182, 0.395}, 0.28, 0.037, patrolRC, 193328, 77331},
	{"fo.wikipedia.org", "fowiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.129, patrolNone, 2058932, 371306},
	{"fr.wikibooks.org", "", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolRC, 707054, 664700},
	{"fr.wikinews.org", "frwikinews", 1, [4]float64{0.225, 0.198, 0.182, 0.395}, 0.28, 0.037, patrolRC, 1957444, 782977},
	{"he.wiktionary.org", "hewiktionary", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.085, patrolRC, 555535, 450232},
	{"hu.wikibooks.org", "", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 525020, 404988},
	{"hyw.wikipedia.org", "hywwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 727703, 209226},
	{"ik.wikipedia.org", "ikwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 150429, 38712},
	{"it.wikiquote.org", "itwikiquote", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolRC, 3764236, 1255291},
	{"iu.wikipedia.org", "iuwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 148355, 45047},
	{"ks.wikipedia.org", "kswiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 152312, 69067},
	{"la.wikisource.org", "lawikisource", 1, [4]float64{0.225, 0.289, 0.091, 0.395}, 0.28, 0.037, patrolNew, 357692, 192592},
	{"lb.wikipedia.org", "lbwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 6525473, 2415818},
	{"mr.wikipedia.org", "mrwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.129, patrolNone, 5395520, 2230528},
	{"nah.wikipedia.org", "nahwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 1296015, 516274},
	{"nl.wikibooks.org", "", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolRC, 358911, 350887},
	{"ps.wikipedia.org", "pswiki", 1, [4]float64{0.439, 0.039, 0.163, 0.359}, 0.355, 0.082, patrolRC, 1047564, 419025},
	{"pt.wikibooks.org", "ptwikibooks", 1, [4]float64{0.225, 0.289, 0.091, 0.395}, 0.28, 0.037, patrolNew, 538224, 481609},
	{"pt.wiktionary.org", "", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 3379615, 2649896},
	{"si.wikipedia.org", "siwiki", 1, [4]float64{0.439, 0.039, 0.163, 0.359}, 0.355, 0.082, patrolRC, 1538342, 615336},
	{"skr.wikipedia.org", "", 1, [4]float64{0.439, 0.13, 0.072, 0.359}, 0.355, 0.082, patrolNew, 13251, 23336},
	{"vep.wikipedia.org", "vepwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 1689075, 156678},
	{"zh-min-nan.wikipedia.org", "zh_min_nanwiki", 1, [4]float64{0.53, 0.039, 0.072, 0.359}, 0.355, 0.082, patrolNone, 8615384, 3159379},
	{"zh.wikibooks.org", "", 1, [4]float64{0.316, 0.198, 0.091, 0.395}, 0.28, 0.037, patrolNone, 237576, 144334},
}

// wikidataOldLen: camilomozov wikidata edits, length.old, n=4380.
var wikidataOldLen = quantiles{2, 159, 222, 225, 233, 254, 361, 478, 490, 691, 1148, 2027, 3161, 5342, 6858, 7627, 7855, 9100, 11366, 11491, 11873, 15995, 20044, 23058, 24967, 31635, 44499, 50711, 58198, 68117, 74161, 123523, 401680, 2736191, 2738122, 2738861, 2752507}

// wikidataDelta: camilomozov wikidata edits, length.new-length.old, n=4380.
var wikidataDelta = quantiles{-12782, -11237, -4181, -2021, -1838, -1511, -735, -718, -112, 2, 3, 81, 100, 102, 108, 110, 133, 286, 344, 346, 367, 419, 420, 420, 429, 440, 845, 1071, 1117, 1384, 1384, 1416, 1416, 4134, 4134, 4360, 11906}

// wikidataNewLen: camilomozov wikidata page creations, length.new, n=470.
var wikidataNewLen = quantiles{222, 222, 222, 223, 223, 225, 229, 232, 235, 250, 294, 726, 729, 731, 733, 736, 3000, 3003, 3005, 3006, 3009, 3010, 3012, 3014, 3017, 3019, 3021, 3022, 3025, 3028, 3030, 3033, 4159, 5612, 5612, 5612, 5612}

// commonsOldLen: camilomozov commons edits, length.old, n=2023.
var commonsOldLen = quantiles{24, 32, 42, 47, 54, 61, 95, 175, 370, 606, 723, 1061, 1470, 1872, 1913, 1955, 2034, 2168, 2232, 2261, 2306, 2377, 2485, 3340, 4416, 4940, 6051, 6644, 7145, 7391, 7907, 9062, 29824, 62786, 106094, 109903, 484043}

// commonsDelta: camilomozov commons edits, length.new-length.old, n=2023.
var commonsDelta = quantiles{-89, -85, -84, -72, -71, -71, -71, -71, -71, -71, -71, -71, -71, -71, -71, -71, -71, -34, -5, 0, 14, 49, 208, 353, 426, 434, 477, 914, 2398, 2419, 2852, 8924, 9358, 9730, 10210, 10636, 10657}

// wikiOldLen: kirajano EN_DE edits (en+de wikipedia), LENGHT_OLD, n=24809.
var wikiOldLen = quantiles{0, 0, 2, 16, 30, 44, 79, 99, 331, 749, 1066, 2018, 2804, 3699, 4677, 5740, 7006, 8496, 10415, 12885, 15870, 20024, 25988, 33614, 44535, 58891, 84351, 105311, 139150, 187695, 232230, 294318, 411846, 567840, 784492, 931822, 1885230}

// wikiDelta: kirajano EN_DE edits, LENGTH_NEW-LENGHT_OLD, n=24809.
var wikiDelta = quantiles{-468724, -15512, -10459, -5780, -2592, -1444, -692, -481, -222, -105, -56, -24, -7, -5, -1, 0, 1, 5, 12, 21, 27, 40, 56, 89, 148, 237, 381, 512, 741, 1069, 1431, 2257, 3403, 6256, 13287, 18354, 471316}

// wikiNewLen: kirajano EN_DE page creations, LENGTH_NEW, n=1300.
var wikiNewLen = quantiles{0, 0, 0, 0, 2, 8, 15, 16, 21, 21, 21, 22, 32, 32, 34, 50, 78, 81, 150, 153, 238, 392, 650, 944, 1154, 1797, 2962, 3960, 4617, 6459, 8403, 16968, 18485, 40061, 45647, 60879, 87767}

// Namespace mixes: counts of namespace numbers in camilomozov_wikistream_2023-01-24_25 (reconstructed).
// Wikipedia edits exclude id and ar, whose counts are dominated by single bot runs (2,607 edits left);
// namespaces 100-104 (portal-like, wiki-specific) are folded into 100.
var (
	nsEditWikidata  = nsMix{{0, 4079}, {146, 248}, {4, 27}, {120, 22}, {2, 3}, {12, 1}}
	nsEditCommons   = nsMix{{6, 1777}, {10, 153}, {14, 60}, {3, 15}, {4, 11}, {0, 4}, {2, 2}, {828, 1}}
	nsEditWikipedia = nsMix{{0, 1978}, {2, 183}, {4, 125}, {3, 83}, {1, 60}, {100, 63}, {10, 34}, {14, 31}, {118, 28}, {5, 8}, {15, 3}}
	// Sister projects (177 edits); 104 is the Page namespace of Wikisource, folded into 0 elsewhere.
	nsEditSister = nsMix{{0, 109}, {104, 39}, {4, 10}, {2, 4}, {1, 3}, {14, 2}, {10, 1}}
	// Page creations.
	nsNewWikidata  = nsMix{{0, 469}, {120, 1}}
	nsNewCommons   = nsMix{{14, 28}, {4, 1}, {15, 1}}
	nsNewWikipedia = nsMix{{0, 55}, {14, 45}, {3, 32}, {1, 19}, {2, 15}, {4, 5}, {15, 4}, {10, 3}, {118, 2}}
	nsNewSister    = nsMix{{0, 209}, {104, 4}, {3, 2}, {14, 2}, {1, 1}, {10, 1}, {2, 1}}
)

// Other shares counted in the same files.
const (
	// minor=true among edits: camilomozov commons 0.64, wikidata 0.0002; kirajano EN_DE 0.277.
	minorCommons   = 0.64
	minorWikidata  = 0.0002
	minorWikipedia = 0.277
	// Empty comments among human wikipedia edits: kirajano EN_DE 18.2% (of all edits).
	emptyCommentWikipedia = 0.18
	// patrolled=true among edits that carry the field: camilomozov wikidata 0.985, commons 0.927,
	// other wikis 0.724.
	patrolledWikidata = 0.985
	patrolledCommons  = 0.927
	patrolledOther    = 0.724
	// IPv4 share of IP editors: camilomozov 489 IPv4, 196 IPv6.
	ipv4Share = 489.0 / (489 + 196)
)

// Temporary accounts replaced IP editing on most wikis during 2025; the 2026 raw capture
// (sat99496, 50 events) has 14 events by temporary accounts and none by IPs, the 2025 one (arvindp25,
// 144 events) 7 by IPs. Our recorded data is too small to calibrate the split, so it is set by hand:
// among anonymous editors, this share uses a temporary account, the rest an IP address.
const tempAccountShare = 0.6
