select number as n from system.numbers limit 3
