// Allocates for a few seconds with two explicit GCs, so an uptime-only GC log and a
// jstack dump of the same JVM can be captured (see README.md).
public class Churn {
    public static void main(String[] args) throws Exception {
        long end = System.currentTimeMillis() + 4000;
        java.util.List<byte[]> keep = new java.util.ArrayList<>();
        int i = 0;
        while (System.currentTimeMillis() < end) {
            keep.add(new byte[64 * 1024]);
            if (keep.size() > 200) keep.clear();
            if (++i % 20000 == 0) System.gc();
            Thread.sleep(0, 100);
        }
    }
}
