using System.Collections.Frozen;

namespace MediaActors.Providers.Content.Local;

/// <summary>Small word lists for English transcripts, written for this project.</summary>
internal static class EnglishLexicon
{
    /// <summary>Function words: they never make a topic and do not count towards sentence similarity.</summary>
    public static readonly FrozenSet<string> StopWords = Set("""
        a about above across after afterwards again against all almost alone along already also although always
        am among amongst an and another any anybody anyone anything anyway anywhere are around as at away
        be became because become becomes becoming been before beforehand behind being below beside besides between
        beyond both but by can cannot could did do does doing done down during each either else elsewhere
        enough even ever every everybody everyone everything everywhere except few for from further had has have
        having he hence her here hers herself him himself his how however i if in indeed into is it its itself
        just least less let many may maybe me meanwhile might mine more moreover most mostly much must my myself
        namely neither never nevertheless no nobody none nor not nothing now nowhere of off often on once one only
        onto or other others otherwise our ours ourselves out over own per perhaps please quite rather same
        shall she should since so some somebody somehow someone something sometime sometimes somewhere still such
        than that the their theirs them themselves then thence there thereafter thereby therefore therein these
        they this those though through throughout thru thus to together too toward towards under unless until
        up upon us very via was we well were what whatever when whence whenever where whereas whereby wherever
        whether which while whither who whoever whole whom whose why will with within without would yet you your
        yours yourself yourselves
        ain't aren't can't couldn't didn't doesn't don't hadn't hasn't haven't he'd he'll he's here's how's i'd
        i'll i'm i've isn't it'd it'll it's let's mightn't mustn't needn't shan't she'd she'll she's shouldn't
        that'd that'll that's there'd there'll there's they'd they'll they're they've wasn't we'd we'll we're we've
        weren't what'll what're what's what've when's where'd where's who'd who'll who's who've why's won't wouldn't
        y'all you'd you'll you're you've
        aint arent couldnt didnt doesnt dont hadnt hasnt havent im isnt ive shouldnt thats theres theyre theyve
        wasnt werent wont wouldnt youre youve
        """);

    /// <summary>
    /// Words that are frequent in speech but say nothing about the subject: fillers, discourse markers,
    /// light verbs, vague nouns and evaluative adjectives (which belong to sentiment, not to topics).
    /// </summary>
    public static readonly FrozenSet<string> LowValueWords = Set("""
        um umm uh uhm uhh erm er ah ahh oh ooh hmm mm mhm huh wow yeah yep yup yes nope okay ok alright
        right like actually basically literally really honestly seriously obviously certainly definitely
        probably absolutely totally simply clearly exactly pretty fairly kinda sorta gonna wanna gotta lemme
        thing things stuff lot lots kind sort bit bits way ways piece type types sense fact point case example
        go goes going went gone get gets getting got gotten make makes making made know knows knowing knew known
        think thinks thinking thought mean means meant say says saying said tell tells telling told talk talking
        talked see sees seeing saw seen look looks looking looked want wants wanted need needs needed come comes
        coming came take takes taking took taken give gives giving gave given put puts putting use uses using used
        try tries trying tried call calls called keep keeps kept seem seems seemed feel feels felt guess sure
        let lets start starts started begin began find found show shows showed shown happen happens happened
        work works worked working do does did doing done have having
        good great nice bad best better big small little large new old different same real true whole certain
        important interesting able possible likely usually simply especially particularly
        today tomorrow yesterday time times day days week weeks month months year years minute minutes hour
        hours moment moments
        people person guy guys everybody folks somebody man woman men women
        hello hi hey welcome thank thanks bye goodbye please sorry
        channel subscribe subscribed video videos episode podcast today's
        first second third next last also another else ago again here there
        question questions answer answers idea ideas problem problems issue issues reason reasons
        """);

    /// <summary>Number words, which pocketsphinx writes out in full.</summary>
    public static readonly FrozenSet<string> NumberWords = Set("""
        zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
        seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
        thousand thousands million millions billion billions trillion half quarter percent
        """);

    /// <summary>Words that often open a new clause in speech; unpunctuated runs are preferably split before them.</summary>
    public static readonly FrozenDictionary<string, double> ClauseOpeners = new Dictionary<string, double>
    {
        ["so"] = 2, ["but"] = 2, ["now"] = 2, ["okay"] = 2, ["well"] = 1.5, ["however"] = 2, ["anyway"] = 2,
        ["next"] = 1.5, ["finally"] = 2, ["then"] = 1, ["because"] = 1, ["and"] = 1, ["also"] = 1,
        ["first"] = 1.5, ["second"] = 1, ["today"] = 1, ["actually"] = 1, ["basically"] = 1, ["if"] = 1,
        ["when"] = 1, ["after"] = 1, ["in"] = 0.5, ["we"] = 0.5, ["i"] = 0.5, ["you"] = 0.5, ["this"] = 0.5,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static FrozenSet<string> Set(string words) =>
        words.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);
}
