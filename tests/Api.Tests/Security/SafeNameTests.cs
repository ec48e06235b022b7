using MediaActors.Providers.Storage;
namespace MediaActors.Api.Tests.Security;

/// <summary>File names and user ids cannot leave their blob prefix or carry control characters into logs.</summary>
public sealed class SafeNameTests
{
    [Theory]
    [InlineData("../../etc/passwd", "_.._etc_passwd")]
    [InlineData("..\\..\\windows\\system32", "_.._windows_system32")]
    [InlineData("talk.mp4\r\nINFO: forged log line", "talk.mp4__INFO__forged_log_line")]
    [InlineData("/absolute/path.mp4", "_absolute_path.mp4")]
    [InlineData("....", "file")]
    [InlineData("ünïcødé 🎬.mp4", "_n_c_d____.mp4")]
    [InlineData("auth0|12345", "auth0_12345")]
    public void Unsafe_names_become_one_plain_path_segment(string input, string expected)
    {
        var safe = SafeNames.ForPath(input);
        Assert.Equal(expected, safe);
        Assert.DoesNotContain('/', safe);
        Assert.DoesNotContain('\\', safe);
        Assert.False(safe.StartsWith('.'));
        Assert.All(safe, c => Assert.False(char.IsControl(c)));
    }

    [Fact]
    public void Long_names_are_cut_but_keep_their_extension()
    {
        var safe = SafeNames.ForPath(new string('a', 500) + ".mp4");
        Assert.Equal(100, safe.Length);
        Assert.EndsWith(".mp4", safe);
    }
}
