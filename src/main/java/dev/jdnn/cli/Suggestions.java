package dev.jdnn.cli;

import java.util.Collection;
import java.util.Optional;

/** "Did you mean": the known word nearest to a misspelt one, by edit distance with transpositions. */
final class Suggestions {
    private Suggestions() {}

    /**
     * The candidate closest to {@code typed} (leading dashes ignored), if it is close enough to be a
     * plausible typo: at most 2 edits (1 for words of up to 3 letters), a third of the word's length for long words, or a unique prefix
     * ({@code --out} for {@code --output-dir}). Ties go to the first candidate.
     */
    static Optional<String> nearest(String typed, Collection<String> candidates) {
        String word = strip(typed);
        if (word.isEmpty()) return Optional.empty();
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(word, strip(c));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        int allowed = word.length() <= 3 ? 1 : Math.max(2, word.length() / 3); // "--t" is no typo of "--tap"
        if (best != null && bestDistance <= allowed) return Optional.of(best);
        var prefixed = candidates.stream().filter(c -> strip(c).startsWith(word)).toList();
        return prefixed.size() == 1 && word.length() >= 2 ? Optional.of(prefixed.get(0)) : Optional.empty();
    }

    private static String strip(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == '-') i++;
        return s.substring(i);
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
