#!/usr/bin/env perl
# Converts spk2utt (file argument or stdin) to utt2spk on stdout.
# Kaldi-compatible name and command line; a shim that runs the Python implementation
# (python -m phonsid.data.scp spk2utt_to_utt2spk), so 'perl utils/spk2utt_to_utt2spk.pl' and 'utils/spk2utt_to_utt2spk.pl' both work.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $root = dirname(dirname(abs_path($0)));
my $py = "python3";
foreach my $cand (($ENV{PHONSID_ROOT} ? "$ENV{PHONSID_ROOT}/venv/bin/python" : ()), "$root/venv/bin/python") {
  if (-x $cand) { $py = $cand; last; }
}
$ENV{PYTHONPATH} = "$root/pyscripts" . (($ENV{PYTHONPATH} // "") ne "" ? ":$ENV{PYTHONPATH}" : "");
exec { $py } $py, "-m", "phonsid.data.scp", "spk2utt_to_utt2spk", @ARGV;
die "spk2utt_to_utt2spk.pl: cannot run $py: $!\n";
