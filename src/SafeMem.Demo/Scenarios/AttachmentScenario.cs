using System.Runtime.CompilerServices;
using SafeMem.Attachments;

namespace SafeMem.Demo.Scenarios;

/// <summary>A side table keyed by objects keeps its keys alive; an attachment lets them go with their values.</summary>
internal sealed class AttachmentScenario : IScenario
{
    private const int Controls = 5_000;

    private static readonly Dictionary<Control, ToolTipState> s_sideTable = [];
    private static readonly Attachment<Control, ToolTipState> s_toolTips = new("demo.tooltips");

    public string Key => "attachments";

    public string Title => "Attachments: a static Dictionary<Control, State> side table vs Attachment<Control, State>";

    public void Run(TextWriter output)
    {
        List<WeakReference> plain = Heap.Isolated(() => CreateControls(static c => s_sideTable[c] = new ToolTipState(c)));
        output.WriteLine($"  before: Dictionary side table  {Heap.CountAlive(plain),5:N0} of {Controls:N0} discarded controls still alive");
        s_sideTable.Clear();

        List<WeakReference> attached = Heap.Isolated(() => CreateControls(static c => s_toolTips.GetOrAdd(c, static o => new ToolTipState(o))));
        output.WriteLine($"  after:  Attachment              {Heap.CountAlive(attached),5:N0} of {Controls:N0} discarded controls still alive; attachments left {s_toolTips.Count}");
        output.WriteLine("          (each state refers back to its control: the ephemeron still lets both go)");
    }

    public void Dispose()
    {
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> CreateControls(Action<Control> attach)
    {
        var controls = new List<WeakReference>(Controls);
        for (int i = 0; i < Controls; i++)
        {
            var control = new Control();
            attach(control);
            controls.Add(new WeakReference(control));
        }

        return controls;
    }

    private sealed class Control
    {
        public byte[] Pixels { get; } = new byte[4 * 1024];
    }

    private sealed class ToolTipState(Control owner)
    {
        public Control Owner { get; } = owner;
    }
}
