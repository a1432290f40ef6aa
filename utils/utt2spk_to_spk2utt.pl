#!/usr/bin/env perl
# Converts utt2spk (file argument or stdin) to spk2utt on stdout.
# Kaldi-compatible name and command line; a shim that runs the Python implementation
# (python -m phonsid.data.scp utt2spk_to_spk2utt), so 'perl utils/utt2spk_to_spk2utt.pl' and 'utils/utt2spk_to_spk2utt.pl' both work.
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
exec { $py } $py, "-m", "phonsid.data.scp", "utt2spk_to_spk2utt", @ARGV;
die "utt2spk_to_spk2utt.pl: cannot run $py: $!\n";
