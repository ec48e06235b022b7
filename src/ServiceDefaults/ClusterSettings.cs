using Microsoft.Extensions.Configuration;

namespace MediaActors.ServiceDefaults;

/// <summary>The cluster's settings (section "Orleans"), shared by silos and API hosts.</summary>
public sealed class ClusterSettings
{
    public string ClusterId { get; set; } = "mediaactors";

    public string ServiceId { get; set; } = "mediaactors";

    /// <summary>The address other silos and clients reach this silo at (a host name or an IP).</summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>A silo that misses this many probes of this timeout each is suspected; with the votes of others, declared dead.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>
    /// How often a silo writes "I am alive" in the membership table. A silo that missed two of these is no longer counted
    /// among the voters, so when too few live silos probe a dead one (two silos, one of them just starting) a single vote
    /// declares it dead after twice this period. Orleans' default is 30 s (a dead silo's grains then wait up to a minute).
    /// </summary>
    public TimeSpan IAmAlivePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the Orleans Dashboard (at /dashboard) answers only requests from loopback (operators on the machine, or through a tunnel).</summary>
    public bool DashboardLoopbackOnly { get; set; } = true;

    /// <summary>How long an API host waits for a grain's answer before it answers 503.</summary>
    public TimeSpan ClientResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public static ClusterSettings From(IConfiguration configuration) => configuration.GetSection("Orleans").Get<ClusterSettings>() ?? new ClusterSettings();
}
