import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Allocation-heavy workload that makes every HotSpot collector log young, mixed/old and
 * explicit (System.gc()) collections in a couple of seconds.
 *
 * usage: java [gc flags] AllocChurn [rounds]
 */
public final class AllocChurn {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        ArrayDeque<byte[]> window = new ArrayDeque<>();    // medium-lived: promotes to old gen
        List<byte[]> retained = new ArrayList<>();           // long-lived: grows the old gen
        long checksum = 0;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 200; i++) {
                byte[] b = new byte[512 + (i * 37 % 4096)]; // short-lived garbage
                b[0] = (byte) i;
                checksum += b.length;
            }
            window.addLast(new byte[16 * 1024]);
            if (window.size() > 400) {
                window.removeFirst();
            }
            if (r % 25 == 0) {
                retained.add(new byte[64 * 1024]);
                if (retained.size() > 120) {
                    retained.subList(0, 60).clear();    // old-gen garbage for mixed/full GCs
                }
            }
            if (r % 150 == 75) {
                byte[] big = new byte[2 * 1024 * 1024]; // humongous for G1 (region size 1 MiB)
                checksum += big.length;
            }
            if (r == rounds / 3 || r == 2 * rounds / 3) {
                System.gc();
            }
        }
        System.out.println("checksum=" + checksum + " retained=" + retained.size() + " window=" + window.size());
    }
}
