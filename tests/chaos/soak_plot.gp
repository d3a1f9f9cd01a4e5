# Plots a soak CSV (runq_soak --csv): gnuplot -e "csv='in.csv'; png='out.png'; title='...'" soak_plot.gp
set datafile separator ","
set terminal pngcairo size 1200,900 font ",10"
set output png
set multiplot layout 3,1 title title
set key outside right
set grid
set yrange [0:*]
set y2range [0:*]
set xlabel "seconds"
set ylabel "MiB"
set title "resident memory"
plot csv using 1:($7/1024) skip 1 with lines title "workers (sum)", \
     csv using 1:($9/1024) skip 1 with lines title "store server"
set ylabel "count"
set title "open file descriptors, backlog"
set y2label "tasks queued"
set y2tics
plot csv using 1:8 skip 1 with lines title "worker fds (sum)", \
     csv using 1:10 skip 1 with lines title "store fds", \
     csv using 1:($3+$4) skip 1 axes x1y2 with lines title "backlog: queued + producer behind (right)"
unset y2tics
unset y2label
set ylabel "ms"
set title "pickup latency (started - enqueued) and throughput"
set y2label "tasks/s"
set y2tics
plot csv using 1:6 skip 1 with lines title "p99 pickup", \
     csv using 1:5 skip 1 with lines title "p50 pickup", \
     csv using 1:2 skip 1 axes x1y2 with lines title "throughput (right)"
unset multiplot
