"""Bytes → text with the right encoding, for feeds and pages that often declare the wrong one.

Stages of `decode`, in order:

1. a byte-order mark decides (UTF-8, UTF-16, UTF-32);
2. pure ASCII is ASCII;
3. strict UTF-8: if the whole body is valid UTF-8 it is UTF-8, whatever was declared (GBK,
   Big5 or Latin-1 text is practically never valid UTF-8, while UTF-8 served as
   "iso-8859-1" is common);
4. the declared charsets, HTTP header first, then the XML declaration or HTML `<meta>`;
   each is tried strictly and then checked: a Latin-1/Windows-1252 reading whose
   non-ASCII characters come in pairs looks like GBK or Big5 mojibake, and a Chinese
   reading full of rare characters, kana or private-use code points is the wrong Chinese
   encoding;
5. detection: GB18030 and Big5-HKSCS are tried strictly and scored by the share of common
   Chinese characters they produce; then Windows-1252; then UTF-8 with replacement.

Aliases follow what browsers do: GB2312/GBK mean GB18030 (a superset), ISO-8859-1 and
US-ASCII mean Windows-1252, Big5 means Big5-HKSCS. The procedure is deterministic and
tuned for Chinese and Western sources; a statistical detector (charset-normalizer) would add
a dependency and per-document cost for languages these sources do not use.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "euc-cn": "gb18030",
    "euc_cn": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
}
_WESTERN = frozenset({"cp1252", "iso8859-15", "cp1250", "iso8859-2"})
_CHINESE = ("gb18030", "big5hkscs")

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)

_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")
# Code points that a correct Chinese decoding almost never yields but a wrong one does:
# private use, kana, box drawing, C1 controls, replacement characters, Hangul/compat forms.
_UNLIKELY = re.compile(
    r"[\ue000-\uf8ff\u3040-\u30ff\u2500-\u257f\u0080-\u009f\ufffd\uac00-\ud7af\uf900-\ufaff]"
)
_PAIRED = re.compile(r"[^\x00-\x7f]{2,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

# Frequent Chinese characters, simplified and traditional forms; a correct decoding of
# Chinese text draws most of its characters from here, a wrong one only a few.
_COMMON = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之"
    "年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理"
    "心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高"
    "间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老"
    "给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女"
    "变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形"
    "社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程"
    "北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每"
    "济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质"
    "团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称"
    "企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅"
    "考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章"
    "音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪"
    "采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般"
    "普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述"
    "陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判"
    "担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副"
    "乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评"
    "版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误"
    "湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇"
    "康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补"
    "谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋"
    "宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐"
    "熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替"
    "塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植"
    "纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵"
    "吹纷市委书记调研企业制造产业区县政策推动发展经济创新项目工作会议国家省市镇街道服务建设管理"
    "這個們為來時說對會過後國學還發經開關點長現問題東車門見聽認讓讀寫語書樣動種與從當條號實體員"
    "機業電話進間區標準價資內帶給總裡麼頭應該興處歡變樂係線氣術輕單傳統產師歷將戰爭軍隊團結報導"
    "記錄濟劃議選舉黨務數據網絡腦視頻廣告臺灣華華僑萬與雖歲縣鎮府廳統計劃設計畫領導"
)


def decode(body: bytes, *, declared: str | None = None, content_type: str | None = None) -> str:
    """Decode a fetched body to text: BOM, then verified declared charsets, then detection."""
    if not body:
        return ""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace")
    if body.isascii():
        return body.decode("ascii")
    candidates = _declared(body, declared, content_type)
    for codec in candidates:
        if codec.startswith(("utf-16", "utf-32")):
            text = _strict(body, codec)
            if text is not None:
                return text
    text = _strict(body, "utf-8")
    if text is not None:
        return text
    fallback: str | None = None
    for codec in candidates:
        if codec == "utf-8" or codec.startswith(("utf-16", "utf-32")):
            continue
        text = _strict(body, codec)
        if text is None:
            continue
        if _plausible(body, text, codec):
            return text
        fallback = fallback or text
    detected = _detect(body)
    if detected is not None:
        return detected
    if fallback is not None:
        return fallback
    text = _strict(body, "cp1252")
    return text if text is not None else body.decode("utf-8", "replace")


def codec_name(charset: str | None) -> str | None:
    """The Python codec we read a declared charset with (GB2312 → gb18030 …), or None."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _ALIASES.get(canonical, canonical)


def _declared(body: bytes, declared: str | None, content_type: str | None) -> list[str]:
    names: list[str | None] = [declared]
    if content_type:
        m = _CHARSET_PARAM.search(content_type)
        names.append(m.group(1) if m else None)
    head = body[:1024]
    m_xml = _XML_DECL.match(head)
    if m_xml:
        names.append(m_xml.group(1).decode("ascii"))
    else:
        m_meta = _META.search(body[:4096])
        if m_meta:
            names.append(m_meta.group(1).decode("ascii"))
    found: list[str] = []
    for name in names:
        codec = codec_name(name)
        if codec and codec not in found:
            found.append(codec)
    return found


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _plausible(body: bytes, text: str, codec: str) -> bool:
    """Does this strict decoding read like real text rather than mojibake?"""
    if codec in _WESTERN:
        return not _paired_high_bytes(text)
    if codec in _CHINESE:
        score, ideographs = _score(text)
        if ideographs < 20 or score >= 0.5:
            return score > 0 or ideographs == 0
        for other in _CHINESE:
            if other == codec:
                continue
            alt = _strict(body, other)
            if alt is not None and _score(alt)[0] > score + 0.15:
                return False
        return score > 0
    return "\ufffd" not in text


def _paired_high_bytes(text: str) -> bool:
    """True when most non-ASCII characters stand in runs, as GBK/Big5 bytes read as Latin do."""
    sample = text[:50_000]
    total = len(_NON_ASCII.findall(sample))
    if total < 6:
        return False
    paired = sum(len(run) for run in _PAIRED.findall(sample))
    return paired >= 0.6 * total


def _score(text: str) -> tuple[float, int]:
    """Share of common characters among the ideographs of a sample, minus unlikely ones."""
    sample = text[:8_000]
    ideographs = _IDEOGRAPH.findall(sample)
    unlikely = len(_UNLIKELY.findall(sample))
    common = sum(map(_COMMON.__contains__, ideographs))
    denominator = len(ideographs) + unlikely
    if denominator == 0:
        return 0.0, 0
    return (common - 3 * unlikely) / denominator, len(ideographs)


def _detect(body: bytes) -> str | None:
    """Pick the best-scoring Chinese decoding, if any reads as Chinese."""
    best: tuple[float, str] | None = None
    for codec in _CHINESE:
        text = _strict(body, codec)
        if text is None:
            continue
        score, ideographs = _score(text)
        if ideographs == 0 or score < 0.3:
            continue
        if best is None or score > best[0]:
            best = (score, text)
    return best[1] if best else None
